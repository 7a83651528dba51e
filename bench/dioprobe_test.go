package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestDIOProbe compares, on this machine's disk, three ways of making one
// appended record durable, interleaved in blocks of 20 appends so that
// each sees the same disk at the same time (a shared disk's fsync latency
// drifts by 10x within seconds, which separate runs cannot cancel):
//
//	fallocate: pwrite + fdatasync, file reserved with fallocate (raw-a)
//	zerofill:  pwrite + fdatasync, file reserved by writing zeros
//	dio:       one O_DIRECT|O_DSYNC write of whole 4 KiB blocks, the
//	           partial last block rewritten (raw-dio-a), zero-filled file
//
// It runs only with DIO_PROBE=1 (DIO_PROBE_ROUNDS, default 100 blocks per
// method, DIO_PROBE_SIZE, default 128 bytes per append, DIO_PROBE_DIR):
//
//	DIO_PROBE=1 go test -run TestDIOProbe -v .
func TestDIOProbe(t *testing.T) {
	if os.Getenv("DIO_PROBE") == "" {
		t.Skip("set DIO_PROBE=1 to measure")
	}
	rounds, size := envInt("DIO_PROBE_ROUNDS", 100), envInt("DIO_PROBE_SIZE", 128)
	dir := t.TempDir()
	if d := os.Getenv("DIO_PROBE_DIR"); d != "" {
		var err error
		if dir, err = os.MkdirTemp(d, "dioprobe-"); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
	}
	names := []string{"fallocate", "zerofill", "dio"}
	files := make([]*rawFile, len(names))
	for i, name := range names {
		rf, err := openRawFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer rf.close()
		switch name {
		case "zerofill":
			rawZeroFill = true
			err = rf.reserve(1)
			rawZeroFill = false
		case "dio":
			if err = rf.directIO(Synced); err == nil {
				err = rf.reserve(1)
			}
		default:
			err = rf.reserve(1)
		}
		if err != nil {
			t.Fatal(err)
		}
		files[i] = rf
	}
	payload := make([]byte, size)
	lat := make([][]time.Duration, len(names))
	for r := range rounds {
		for k := range names {
			i := (k + r) % len(names) // rotate the order each round
			rf := files[i]
			for range 20 {
				buf := rf.frame(nil, payload)
				off := rf.end - int64(len(buf))
				if err := rf.reserve(rf.end); err != nil {
					t.Fatal(err)
				}
				t0 := time.Now()
				if err := rf.put(buf, off, true); err != nil {
					t.Fatal(err)
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}
	}
	for i, name := range names {
		l := lat[i]
		var sum time.Duration
		for _, d := range l {
			sum += d
		}
		slices.Sort(l)
		t.Logf("%-9s %d appends of %d B: mean %v, p50 %v, p90 %v, p99 %v, %.0f appends/s",
			name, len(l), size, (sum / time.Duration(len(l))).Round(time.Microsecond), l[len(l)/2].Round(time.Microsecond),
			l[len(l)*9/10].Round(time.Microsecond), l[len(l)*99/100].Round(time.Microsecond), float64(len(l))/sum.Seconds())
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
