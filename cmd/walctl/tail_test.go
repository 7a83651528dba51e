package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waldb/wal"
)

func TestTailLast(t *testing.T) {
	dir := makeLog(t, 100)
	r := runCLI(t, "", "tail", "-n", "3", dir)
	r.wantCode(t, exitOK)
	golden(t, "tail.golden", r.stdout)
	r = runCLI(t, "", "tail", "-n", "500", "--json", dir)
	r.wantCode(t, exitOK)
	if n := strings.Count(r.stdout, "\n"); n != 100 || !strings.HasPrefix(r.stdout, `{"index":1,`) {
		t.Errorf("tail -n 500 of 100 entries printed %d lines", n)
	}
	r = runCLI(t, "", "tail", "-n", "0", dir)
	r.wantCode(t, exitOK)
	if r.stdout != "" {
		t.Errorf("tail -n 0 = %q", r.stdout)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestTailFollow: tail -f prints entries a writer appends while it runs,
// across segment rotations, until its context ends.
func TestTailFollow(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	w, err := wal.Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	appendEntries(t, w, 1, 5)
	var out, errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runTail(ctx, tailOptions{dir: dir, n: 2, follow: true, interval: 5 * time.Millisecond, data: "auto", txn: true}, &out, &errOut)
	}()
	line := func(i int) string { return fmt.Sprintf("%d\t31\t%s\n", i, entryData(i)) }
	waitFor(t, "the last 2 entries", func() bool { return strings.Contains(out.String(), line(5)) })
	appendEntries(t, w, 6, 80) // several segments
	waitFor(t, "entry 80", func() bool { return strings.Contains(out.String(), line(80)) })
	appendEntries(t, w, 81, 90)
	waitFor(t, "entry 90", func() bool { return strings.Contains(out.String(), line(90)) })
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("runTail = %v, want context.Canceled", err)
	}
	var want strings.Builder
	for i := 4; i <= 90; i++ {
		want.WriteString(line(i))
	}
	if got := out.String(); got != want.String() {
		t.Errorf("tail -f printed:\n%s\nwant entries 4..90", got)
	}
	if errOut.String() != "" {
		t.Errorf("stderr: %s", errOut.String())
	}
}

// TestTailFollowTruncated: entries removed from the front before tail saw
// them are reported on stderr; tail continues at the new first entry.
func TestTailFollowTruncated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	w, err := wal.Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	appendEntries(t, w, 1, 3)
	l, err := openInspect(dir, wal.TolerateTornTail)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out, errOut bytes.Buffer
	tl := &tailer{l: l, it: l.Iter(1, nil), p: &entryPrinter{w: &out, mode: dataAuto}, errOut: &errOut}
	if err := tl.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	appendEntries(t, w, 4, 100)
	if err := w.TruncateFront(70); err != nil {
		t.Fatal(err)
	}
	if err := tl.refresh(); err != nil {
		t.Fatal(err)
	}
	if err := tl.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "1\t") || !strings.Contains(out.String(), "\n70\t31\t") || strings.Contains(out.String(), "\n69\t") {
		t.Errorf("output:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "entries before 70 were removed") {
		t.Errorf("stderr = %q", errOut.String())
	}
}
