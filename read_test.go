package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// TestAppendEntry: AppendEntry appends exactly what Read returns, from
// sealed segments, the written tail and the write buffer, with and
// without NoCopy; it reuses dst's room, never aliases the log's memory,
// and on error returns dst unchanged.
func TestAppendEntry(t *testing.T) {
	for _, noCopy := range []bool{false, true} {
		t.Run(map[bool]string{false: "copy", true: "nocopy"}[noCopy], func(t *testing.T) {
			// SyncNever with a large buffer keeps the newest entries in
			// the write buffer until the explicit flush below.
			l := mustOpen(t, t.TempDir(), &Options{SegmentSize: 4 << 10, NoCopy: noCopy, SyncPolicy: SyncNever,
				BufferSize: 1 << 20, FlushInterval: time.Hour})
			defer l.Close()
			fill(t, l, 200, 3)
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			fill(t, l, 230, 3)
			l.mu.Lock()
			buffered := l.written < l.lsn
			l.mu.Unlock()
			if !buffered {
				t.Fatal("the newest entries are not in the write buffer")
			}
			prefix := []byte("prefix:")
			buf := make([]byte, 0, 4096)
			for i := uint64(1); i <= 230; i++ {
				want, err := l.Read(i)
				if err != nil {
					t.Fatal(err)
				}
				got, err := l.AppendEntry(append(buf[:0], prefix...), i)
				if err != nil {
					t.Fatalf("AppendEntry(%d): %v", i, err)
				}
				if !bytes.Equal(got, append(append([]byte(nil), prefix...), want...)) {
					t.Fatalf("AppendEntry(%d) = %q, want prefix + %q", i, got, want)
				}
				if &got[0] != &buf[:1][0] {
					t.Fatalf("AppendEntry(%d) did not use dst's room", i)
				}
				// Scribbling on the result must not reach the log.
				for j := range got {
					got[j] = 0xee
				}
				again, err := l.Read(i)
				if err != nil || !bytes.Equal(again, want) {
					t.Fatalf("Read(%d) after changing AppendEntry's result = %q, %v", i, again, err)
				}
			}
			if got, err := l.AppendEntry(nil, 5); err != nil || !bytes.Equal(got, payload(5, 3)) {
				t.Fatalf("AppendEntry(nil, 5) = %q, %v", got, err)
			}
			dst := []byte("keep")
			for _, i := range []uint64{0, 231} {
				got, err := l.AppendEntry(dst, i)
				if !errors.Is(err, ErrNotFound) || !bytes.Equal(got, dst) {
					t.Fatalf("AppendEntry(dst, %d) = %q, %v; want dst unchanged and ErrNotFound", i, got, err)
				}
			}
		})
	}
}

// TestAppendEntryAllocates: into a buffer with room, AppendEntry of an
// entry in a sealed segment or in the tail's file allocates nothing.
func TestAppendEntryAllocates(t *testing.T) {
	l := mustOpen(t, t.TempDir(), &Options{SegmentSize: 4 << 10})
	defer l.Close()
	fill(t, l, 100, 0)
	segs := l.Segments()
	tail := segs[len(segs)-1]
	if tail.Sealed || tail.LastIndex != 100 || tail.FirstIndex > 99 || !segs[0].Sealed {
		t.Fatalf("want sealed segments and entries in the tail, have %+v", segs)
	}
	for _, i := range []uint64{7, 99} {
		buf := make([]byte, 0, 1024)
		var err error
		allocs := testing.AllocsPerRun(100, func() {
			buf, err = l.AppendEntry(buf[:0], i)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := checkPayload(i, buf); err != nil {
			t.Fatal(err)
		}
		if allocs != 0 {
			t.Fatalf("AppendEntry(%d) allocates %.1f times per call, want 0", i, allocs)
		}
	}
}

// TestEvenlySpacedGuess: sealed segments of same-sized entries are marked
// for the read-ahead guess, segments of wildly varying sizes are not, and
// reads are exact either way.
func TestEvenlySpacedGuess(t *testing.T) {
	for _, tc := range []struct {
		name string
		size func(i uint64) int
		want bool
	}{
		{"same size", func(uint64) int { return 200 }, true},
		{"varying", func(i uint64) int { return int(i*7919%97) * int(i*31%13) * 3 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := mustOpen(t, t.TempDir(), &Options{SegmentSize: 64 << 10, SyncPolicy: SyncNever})
			defer l.Close()
			entry := func(i uint64) []byte {
				b := bytes.Repeat([]byte{byte(i)}, tc.size(i)+8)
				binary.LittleEndian.PutUint64(b, i)
				return b
			}
			for i := uint64(1); i <= 3000; i++ {
				if err := l.Write(i, entry(i)); err != nil {
					t.Fatal(err)
				}
			}
			v := l.view.Load()
			if len(v.sealed) < 2 {
				t.Fatalf("%d sealed segments, want 2 or more", len(v.sealed))
			}
			for i := uint64(1); i <= 3000; i++ {
				b, err := l.Read(i)
				if err != nil || !bytes.Equal(b, entry(i)) {
					t.Fatalf("Read(%d) = %d bytes, %v", i, len(b), err)
				}
			}
			for _, s := range v.sealed {
				if got := s.guess.Load(); got != tc.want {
					t.Errorf("segment %s: guess = %v, want %v", s.name, got, tc.want)
				}
			}
		})
	}
}
