package boltmigrate

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/waldb/wal/raftlog"
)

// raft's stable keys.
var (
	keyCurrentTerm  = []byte("CurrentTerm")
	keyLastVoteTerm = []byte("LastVoteTerm")
	keyLastVoteCand = []byte("LastVoteCand")
)

var baseTime = time.Date(2026, 11, 21, 12, 0, 0, 123456789, time.UTC)

// entry returns a deterministic entry for index and term, with every
// field exercised across indexes.
func entry(index, term uint64) *raft.Log {
	l := &raft.Log{
		Index:      index,
		Term:       term,
		Type:       raft.LogCommand,
		Data:       fmt.Appendf(nil, "cmd %d term %d", index, term),
		AppendedAt: baseTime.Add(time.Duration(index) * time.Millisecond),
	}
	if index%5 == 0 {
		l.Extensions = fmt.Appendf(nil, "ext-%d", index)
	}
	if index%7 == 0 {
		l.Type, l.Data = raft.LogNoop, nil
	}
	return l
}

func mustOpen(t testing.TB, dir string, o *raftlog.Options) *raftlog.Store {
	t.Helper()
	s, err := raftlog.Open(dir, o)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

func mustClose(t testing.TB, s *raftlog.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// syncBuffer discards raft's log output.
type syncBuffer struct{}

func (*syncBuffer) Write(p []byte) (int, error) { return io.Discard.Write(p) }
