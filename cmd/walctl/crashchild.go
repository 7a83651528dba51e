package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/waldb/wal"
	"github.com/waldb/wal/internal/killchild"
)

// castagnoli is the CRC table of crashtest's own payload checksums.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// The crashtest child is walctl re-executed as the hidden subcommand
// crashtest-child. It appends self-verifying entries from several
// goroutines and reports each acknowledged one on stdout, a pipe to the
// parent, until the parent kills it.
//
// Protocol (one line per write(2), each shorter than PIPE_BUF, so a kill
// never leaves half a line): "ready" once the log is open, then
// "<index> <round>.<writer>.<seq>" per acknowledged entry.

const (
	childCmdName  = "crashtest-child"
	childLifetime = 2 * time.Minute // a child nobody kills gives up
)

// childOptions configures a crash child.
type childOptions struct {
	dir         string
	round       uint32
	seed        uint64
	writers     int
	policy      string
	async       bool
	segmentSize int
	maxFiller   int
}

// args returns the command line that runs a child with o.
func (o childOptions) args() []string {
	return []string{childCmdName, o.dir,
		"--round", fmt.Sprint(o.round), "--seed", fmt.Sprint(o.seed), "--writers", fmt.Sprint(o.writers),
		"--policy", o.policy, "--segment-size", fmt.Sprint(o.segmentSize), "--max-filler", fmt.Sprint(o.maxFiller),
		"--async=" + fmt.Sprint(o.async)}
}

func newCrashChildCmd(e *env) *cobra.Command {
	var o childOptions
	cmd := &cobra.Command{
		Use:    childCmdName + " DIR",
		Short:  "crashtest's child process (internal)",
		Hidden: true,
		Args:   dirArg(&o.dir),
		RunE: func(c *cobra.Command, _ []string) error {
			return runCrashChild(c.Context(), o, e.stdout)
		},
	}
	f := cmd.Flags()
	f.Uint32Var(&o.round, "round", 1, "round number tagging the entries")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the filler lengths")
	f.IntVar(&o.writers, "writers", 8, "appending goroutines")
	f.StringVar(&o.policy, "policy", "always", "sync policy")
	f.IntVar(&o.segmentSize, "segment-size", 1<<20, "segment size")
	f.IntVar(&o.maxFiller, "max-filler", 1024, "largest filler length")
	f.BoolVar(&o.async, "async", false, "append with AppendAsync, acknowledge on NotifyDurable")
	return cmd
}

// parsePolicy returns the sync policy named s.
func parsePolicy(s string) (wal.SyncPolicy, error) {
	for _, p := range []wal.SyncPolicy{wal.SyncAlways, wal.SyncInterval, wal.SyncNever} {
		if p.String() == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown sync policy %q: want always, interval or never", s)
}

// runCrashChild returns only on failure or when ctx ends (an interrupt
// reaches the whole process group); normally it is killed.
func runCrashChild(ctx context.Context, o childOptions, out io.Writer) error {
	policy, err := parsePolicy(o.policy)
	if err != nil {
		return err
	}
	l, err := wal.Open(o.dir, &wal.Options{SyncPolicy: policy, SegmentSize: o.segmentSize})
	if err != nil {
		return err
	}
	acks := &ackWriter{w: out}
	if err := acks.line(killchild.ReadyLine); err != nil {
		return err
	}
	errc := make(chan error, o.writers)
	for w := range o.writers {
		if o.async {
			go func() { errc <- childAsyncWriter(l, o, policy, uint16(w), acks) }()
			continue
		}
		go func() { errc <- childWriter(l, o, policy, uint16(w), acks) }()
	}
	select {
	case err := <-errc:
		return err // the log is left open: the process exits anyway
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(childLifetime):
		return fmt.Errorf("crash child not killed within %v", childLifetime)
	}
}

// childWriter appends forever. Under SyncAlways an entry is acknowledged
// when Append returns; under the other policies, when a Sync after it
// returns (every few entries).
func childWriter(l *wal.Log, o childOptions, policy wal.SyncPolicy, writer uint16, acks *ackWriter) error {
	rng := rand.New(rand.NewPCG(o.seed, uint64(writer)))
	var pending []string
	var buf []byte
	for seq := uint64(0); ; seq++ {
		id := entryID{Round: o.round, Writer: writer, Seq: seq}
		buf = id.payload(buf[:0], rng.IntN(o.maxFiller+1))
		idx, err := l.Append(buf)
		if err != nil {
			return fmt.Errorf("writer %d: append %v: %w", writer, id, err)
		}
		pending = append(pending, fmt.Sprintf("%d %v", idx, id))
		if policy == wal.SyncAlways || rng.IntN(8) == 0 {
			if err := ackPending(l, policy, acks, pending); err != nil {
				return fmt.Errorf("writer %d: %w", writer, err)
			}
			pending = pending[:0]
		}
	}
}

// asyncInFlight bounds the NotifyDurable callbacks a writer has pending.
const asyncInFlight = 32

// childAsyncWriter appends forever with AppendAsync, never waiting for an
// fsync itself. After some entries (every one under SyncAlways, about one
// in eight otherwise) it asks NotifyDurable for the last one; the callback
// acknowledges the entries up to it, and only then: the durability signal
// is the only acknowledgement.
func childAsyncWriter(l *wal.Log, o childOptions, policy wal.SyncPolicy, writer uint16, acks *ackWriter) error {
	rng := rand.New(rand.NewPCG(o.seed, uint64(writer)))
	slots := make(chan struct{}, asyncInFlight)
	failed := make(chan error, 1)
	var pending []string
	var buf []byte
	for seq := uint64(0); ; seq++ {
		id := entryID{Round: o.round, Writer: writer, Seq: seq}
		buf = id.payload(buf[:0], rng.IntN(o.maxFiller+1))
		idx, err := l.AppendAsync(buf)
		if err != nil {
			return fmt.Errorf("writer %d: append %v: %w", writer, id, err)
		}
		pending = append(pending, fmt.Sprintf("%d %v", idx, id))
		if policy != wal.SyncAlways && rng.IntN(8) != 0 {
			continue
		}
		select {
		case slots <- struct{}{}:
		case err := <-failed:
			return err
		}
		batch := pending
		pending = nil
		err = l.NotifyDurable(idx, func(err error) {
			defer func() { <-slots }()
			if err == nil {
				err = ackLines(acks, batch)
			}
			if err != nil {
				select {
				case failed <- fmt.Errorf("writer %d: durability of %d: %w", writer, idx, err):
				default:
				}
			}
		})
		if err != nil {
			return fmt.Errorf("writer %d: NotifyDurable(%d): %w", writer, idx, err)
		}
	}
}

// ackLines acknowledges entries.
func ackLines(acks *ackWriter, lines []string) error {
	for _, a := range lines {
		if err := acks.line(a); err != nil {
			return err
		}
	}
	return nil
}

// ackPending makes the pending entries durable (Sync, unless SyncAlways
// already did) and acknowledges them.
func ackPending(l *wal.Log, policy wal.SyncPolicy, acks *ackWriter, pending []string) error {
	if policy != wal.SyncAlways {
		if err := l.Sync(); err != nil {
			return fmt.Errorf("sync: %w", err)
		}
	}
	for _, a := range pending {
		if err := acks.line(a); err != nil {
			return err
		}
	}
	return nil
}

// ackWriter writes protocol lines, one write per line.
type ackWriter struct {
	mu sync.Mutex // serializes lines
	w  io.Writer
}

func (a *ackWriter) line(s string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := io.WriteString(a.w, s+"\n")
	return err
}

// entryID names who wrote an entry: the crash round, the writer goroutine
// and its sequence number. A writer appends seq n+1 only after Append of
// seq n returned, so in the log a writer's entries appear in order.
type entryID struct {
	Round  uint32
	Writer uint16
	Seq    uint64
}

func (id entryID) String() string { return fmt.Sprintf("%d.%d.%d", id.Round, id.Writer, id.Seq) }

// A crashtest entry verifies itself:
//
//	0     4  "wct1"
//	4     4  round
//	8     2  writer
//	10    8  seq
//	18    n  filler: byte i is byte(seq + i)
//	18+n  4  CRC-32C of bytes [0, 18+n)
const (
	payloadMagic = "wct1"
	payloadHead  = 18
)

// payload appends the entry of id with n filler bytes to dst.
func (id entryID) payload(dst []byte, n int) []byte {
	start := len(dst)
	dst = append(dst, payloadMagic...)
	dst = binary.LittleEndian.AppendUint32(dst, id.Round)
	dst = binary.LittleEndian.AppendUint16(dst, id.Writer)
	dst = binary.LittleEndian.AppendUint64(dst, id.Seq)
	for i := range n {
		dst = append(dst, byte(id.Seq+uint64(i)))
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

var errBadPayload = errors.New("not a valid crashtest entry")

// parsePayload checks p and returns its ID.
func parsePayload(p []byte) (entryID, error) {
	if len(p) < payloadHead+4 || string(p[:4]) != payloadMagic {
		return entryID{}, fmt.Errorf("%w: %d bytes", errBadPayload, len(p))
	}
	body := p[:len(p)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(p[len(body):]) {
		return entryID{}, fmt.Errorf("%w: checksum mismatch", errBadPayload)
	}
	return entryID{Round: binary.LittleEndian.Uint32(p[4:]), Writer: binary.LittleEndian.Uint16(p[8:]), Seq: binary.LittleEndian.Uint64(p[10:])}, nil
}

// ack is one acknowledged entry.
type ack struct {
	index uint64
	id    entryID
}

// parseAck parses "<index> <round>.<writer>.<seq>".
func parseAck(line string) (ack, error) {
	is, ids, ok := strings.Cut(line, " ")
	parts := strings.Split(ids, ".")
	if !ok || len(parts) != 3 {
		return ack{}, fmt.Errorf("malformed ack %q", line)
	}
	index, err1 := strconv.ParseUint(is, 10, 64)
	round, err2 := strconv.ParseUint(parts[0], 10, 32)
	writer, err3 := strconv.ParseUint(parts[1], 10, 16)
	seq, err4 := strconv.ParseUint(parts[2], 10, 64)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return ack{}, fmt.Errorf("malformed ack %q", line)
	}
	return ack{index: index, id: entryID{Round: uint32(round), Writer: uint16(writer), Seq: seq}}, nil
}
