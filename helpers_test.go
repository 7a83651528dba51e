package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"testing"
	"time"
)

// payload returns a self-verifying entry: its index, a generation, filler
// whose length depends on both, and a CRC of the rest.
func payload(index, gen uint64) []byte {
	n := int((index*7919 + gen*31) % 61)
	b := make([]byte, 16, 20+n)
	binary.LittleEndian.PutUint64(b, index)
	binary.LittleEndian.PutUint64(b[8:], gen)
	for i := 0; i < n; i++ {
		b = append(b, byte(index)+byte(i))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// checkPayload verifies a payload made by payload and returns its
// generation.
func checkPayload(index uint64, b []byte) (uint64, error) {
	if len(b) < 20 {
		return 0, fmt.Errorf("index %d: short payload %d bytes", index, len(b))
	}
	body := b[:len(b)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return 0, fmt.Errorf("index %d: payload checksum mismatch", index)
	}
	if got := binary.LittleEndian.Uint64(b); got != index {
		return 0, fmt.Errorf("index %d: payload carries index %d", index, got)
	}
	gen := binary.LittleEndian.Uint64(b[8:])
	if !bytes.Equal(b, payload(index, gen)) {
		return 0, fmt.Errorf("index %d: payload mismatch", index)
	}
	return gen, nil
}

func mustOpen(t testing.TB, dir string, o *Options) *Log {
	t.Helper()
	l, err := Open(dir, o)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return l
}

func mustClose(t testing.TB, l *Log) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// bounds returns FirstIndex and LastIndex.
func bounds(t testing.TB, l *Log) (uint64, uint64) {
	t.Helper()
	f, err1 := l.FirstIndex()
	la, err2 := l.LastIndex()
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	return f, la
}

// fill appends entries with payload(i, gen) until LastIndex is last.
func fill(t testing.TB, l *Log, last, gen uint64) {
	t.Helper()
	_, la := bounds(t, l)
	for i := la + 1; i <= last; i++ {
		if err := l.Write(i, payload(i, gen)); err != nil {
			t.Fatalf("Write(%d): %v", i, err)
		}
	}
}

// checkRange asserts that exactly [first, last] is readable and verifies.
func checkRange(t testing.TB, l *Log, first, last uint64) {
	t.Helper()
	f, la := bounds(t, l)
	wantF := first
	if last < first && first == 1 {
		wantF = 0
	}
	if f != wantF || la != last {
		t.Fatalf("bounds = [%d, %d], want [%d, %d]", f, la, wantF, last)
	}
	for i := first; i <= last; i++ {
		b, err := l.Read(i)
		if err != nil {
			t.Fatalf("Read(%d): %v", i, err)
		}
		if _, err := checkPayload(i, b); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []uint64{first - 1, last + 1} {
		if _, err := l.Read(i); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Read(%d) outside [%d,%d]: err = %v, want ErrNotFound", i, first, last, err)
		}
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

func runtimeGosched() { time.Sleep(time.Millisecond) }
