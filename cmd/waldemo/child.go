package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/waldb/wal"
	"github.com/waldb/wal/internal/killchild"
)

// The crash child: it opens the log, runs childWriters goroutines that append
// payloads as fast as the sync policy allows, and reports each acknowledged
// Append on its stdout (a pipe to the parent) until the parent kills it.
const (
	childWriters     = 8
	childSegmentSize = 1 << 20 // small, so every round rotates segments
	maxFiller        = 2048    // payload filler length is uniform in [0, maxFiller]
	// childLifetime bounds a child whose parent never kills it.
	childLifetime = time.Minute
)

// The parent passes childConfig through the environment, so the same
// mechanism serves the waldemo binary (-child DIR) and the test binary
// (GO_WALDEMO_CHILD=DIR).
const (
	envRound  = "WALDEMO_ROUND"
	envSeed   = "WALDEMO_SEED"
	envPolicy = "WALDEMO_POLICY"
)

// childConfig is what one crash child needs besides its directory.
type childConfig struct {
	Round  uint16         // tags the entries this child writes
	Seed   uint64         // seeds the filler lengths and contents
	Policy wal.SyncPolicy // the log's sync policy
}

// env returns cfg as environment assignments.
func (cfg childConfig) env() []string {
	return []string{
		envRound + "=" + strconv.FormatUint(uint64(cfg.Round), 10),
		envSeed + "=" + strconv.FormatUint(cfg.Seed, 10),
		envPolicy + "=" + cfg.Policy.String(),
	}
}

// childConfigFromEnv is the inverse of env.
func childConfigFromEnv(getenv func(string) string) (childConfig, error) {
	round, err := strconv.ParseUint(getenv(envRound), 10, 16)
	if err != nil {
		return childConfig{}, fmt.Errorf("child: %s: %w", envRound, err)
	}
	seed, err := strconv.ParseUint(getenv(envSeed), 10, 64)
	if err != nil {
		return childConfig{}, fmt.Errorf("child: %s: %w", envSeed, err)
	}
	policy, err := parsePolicy(getenv(envPolicy))
	if err != nil {
		return childConfig{}, fmt.Errorf("child: %s: %w", envPolicy, err)
	}
	return childConfig{Round: uint16(round), Seed: seed, Policy: policy}, nil
}

var policies = []wal.SyncPolicy{wal.SyncAlways, wal.SyncInterval, wal.SyncNever}

// parsePolicy returns the policy whose String is name.
func parsePolicy(name string) (wal.SyncPolicy, error) {
	for _, p := range policies {
		if p.String() == name {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown sync policy %q", name)
}

// runChild is the child process's whole life. It returns only on failure
// (or after childLifetime); normally the parent kills it. The log is not
// closed on failure: writers may still be using it, and the process is
// about to exit anyway.
func runChild(dir string, cfg childConfig, out io.Writer) error {
	l, err := wal.Open(dir, &wal.Options{SyncPolicy: cfg.Policy, SegmentSize: childSegmentSize})
	if err != nil {
		return fmt.Errorf("child: %w", err)
	}
	acks := &ackWriter{w: out}
	if err := acks.ready(); err != nil {
		return fmt.Errorf("child: %w", err)
	}
	errc := make(chan error, childWriters)
	for w := range uint16(childWriters) {
		go func() { errc <- appendLoop(l, cfg, w, acks) }()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("child: %w", err)
	case <-time.After(childLifetime):
		return fmt.Errorf("child: not killed within %v", childLifetime)
	}
}

// appendLoop appends payloads forever, acknowledging each one after Append
// returned nil.
func appendLoop(l *wal.Log, cfg childConfig, writer uint16, acks *ackWriter) error {
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(writer)))
	filler := make([]byte, maxFiller)
	var buf []byte
	for seq := uint32(0); ; seq++ {
		id := entryID{Round: cfg.Round, Writer: writer, Seq: seq}
		f := filler[:rng.IntN(maxFiller+1)]
		for i := range f {
			f[i] = byte(rng.Uint32())
		}
		buf = appendPayload(buf[:0], id, f)
		index, err := l.Append(buf)
		if err != nil {
			return fmt.Errorf("writer %d: Append of entry %v: %w", writer, id, err)
		}
		if err := acks.ack(index, id); err != nil {
			return err
		}
	}
}

// The ack protocol on the child's stdout: a line "ready" once the log is
// open, then one line "<index> <entry ID>" per acknowledged Append.

// ack is one acknowledged Append.
type ack struct {
	Index uint64
	ID    entryID
}

// ackWriter writes protocol lines. Each line is one Write call, and a pipe
// write of at most PIPE_BUF bytes is atomic, so a kill never leaves half a
// line.
type ackWriter struct {
	mu  sync.Mutex // guards the fields below and orders the lines
	w   io.Writer
	buf []byte
}

func (a *ackWriter) ready() error { return a.write(killchild.ReadyLine) }

func (a *ackWriter) ack(index uint64, id entryID) error {
	return a.write(strconv.FormatUint(index, 10) + " " + id.String())
}

func (a *ackWriter) write(line string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.buf = append(append(a.buf[:0], line...), '\n')
	if _, err := a.w.Write(a.buf); err != nil {
		return fmt.Errorf("writing ack: %w", err)
	}
	return nil
}

var errBadAck = errors.New("malformed ack line")

// parseAck parses an ack line (without its newline).
func parseAck(line string) (ack, error) {
	idx, id, ok := strings.Cut(line, " ")
	if !ok {
		return ack{}, fmt.Errorf("%w: %q", errBadAck, line)
	}
	index, err := strconv.ParseUint(idx, 10, 64)
	if err != nil {
		return ack{}, fmt.Errorf("%w: %q", errBadAck, line)
	}
	eid, err := parseID(id)
	if err != nil {
		return ack{}, fmt.Errorf("%w: %q: %v", errBadAck, line, err)
	}
	return ack{Index: index, ID: eid}, nil
}
