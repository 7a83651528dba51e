package wal

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/waldb/wal/record"
	"github.com/waldb/wal/vfs"
)

// forgedMarkers returns marker records an entry payload could embed to
// pass for the durability proof of a record starting at recStart, with the
// embedded marker at file offset at: a version-1 marker, and (for a
// version-2 segment) a marker bound to the segment by its real sequence
// number and salt, as a forger who read the segment header would write it.
func forgedMarkers(hdr []byte, recStart, at int64) map[string][]byte {
	out := map[string][]byte{
		"v1 marker":              record.AppendMarker(nil, record.MarkerSynced, uint64(recStart+1)),
		"v1 marker S=own offset": record.AppendMarker(nil, record.MarkerSynced, uint64(at)),
	}
	if h, err := decodeSegHeader(hdr); err == nil && h.version >= 2 {
		out["bound marker"] = appendMarker(nil, h, record.MarkerSynced, uint64(recStart+1))
		out["bound closed marker"] = appendMarker(nil, h, record.MarkerClosed, uint64(at))
	}
	return out
}

// TestEmbeddedMarkerCannotForgeProof is the regression test of issue 13,
// defect 6: an entry whose payload embeds valid marker bytes is torn by a
// crash. The scan stops at that record; the marker inside its payload is
// not at a record boundary the scan reaches, so it proves nothing: Open
// must recover a torn tail, not fail with ErrCorrupt.
func TestEmbeddedMarkerCannotForgeProof(t *testing.T) {
	for _, prealloc := range []bool{false, true} {
		o := Options{SegmentSize: 64 << 10, NoPreallocate: !prealloc}
		fs := vfs.NewMem()
		o.FS = fs
		l := mustOpen(t, memDir, &o)
		fill(t, l, 10, 0)
		mustClose(t, l)
		const prefix = 24 // payload bytes before the embedded marker
		for _, name := range []string{"v1 marker", "v1 marker S=own offset", "bound marker", "bound closed marker"} {
			t.Run(fmt.Sprintf("prealloc=%v/%s", prealloc, name), func(t *testing.T) {
				fs2 := liveClone(fs)
				o2 := o
				o2.FS = fs2
				l2 := mustOpen(t, memDir, &o2)
				segs := l2.Segments()
				recStart := segs[len(segs)-1].Size // where the next record starts
				tailPath := memDir + "/" + segs[len(segs)-1].Name
				hdr := readFile(t, fs2, tailPath)[:segHeaderSize]
				at := recStart + record.HeaderSize + prefix
				m, ok := forgedMarkers(hdr, recStart, at)[name]
				if !ok {
					t.Skipf("no %s in this format version", name)
				}
				p := make([]byte, prefix, prefix+len(m)+200)
				p = append(p, m...)
				p = append(p, bytes.Repeat([]byte{0x5a}, 200)...)
				if err := l2.Write(11, p); err != nil {
					t.Fatal(err)
				}
				img := liveClone(fs2)
				l2.Close()
				full := readFile(t, img, tailPath)
				if h, _, err := record.Decode(full[at:]); err != nil || h.Type != record.Marker {
					t.Fatalf("no embedded marker at %d: %v", at, err)
				}
				// Tear the record after the embedded marker: drop the rest
				// of the file, or zero it (preallocated space never written).
				tornAt := at + int64(len(m)) + 10
				b := append([]byte(nil), full[:tornAt]...)
				if prealloc {
					b = append(b, make([]byte, len(full)-len(b))...)
				}
				writeFile(t, img, tailPath, b)
				o3 := o
				o3.FS = img
				l3, err := Open(memDir, &o3)
				if err != nil {
					t.Fatalf("Open: %v (a marker inside a torn record's payload was taken as proof)", err)
				}
				defer l3.Close()
				rep := l3.Recovery()
				if rep.State != RecoveryTornTail {
					t.Fatalf("state %v, want torn-tail (%v)", rep.State, rep)
				}
				if len(rep.Dropped) != 1 || rep.Dropped[0].From != recStart {
					t.Fatalf("dropped %+v, want one range from %d", rep.Dropped, recStart)
				}
				checkRange(t, l3, 1, 10)
				if _, err := l3.Read(11); !errors.Is(err, ErrNotFound) {
					t.Fatalf("Read(11) = %v, want ErrNotFound", err)
				}
			})
		}
	}
}

// TestOtherSegmentMarkerIsNoProof: in a version-2 segment, a marker copied
// from another segment (another seq or another salt) is not a record of
// this segment at all: after damage it proves nothing, and a misdirected
// copy placed after the tail is a torn tail.
func TestOtherSegmentMarkerIsNoProof(t *testing.T) {
	img := crashedLog(t, 30, 1, Options{SegmentSize: 64 << 10, NoPreallocate: true})
	segs := memSegments(t, img)
	tailPath := segs[len(segs)-1]
	full := readFile(t, img, tailPath)
	h, err := decodeSegHeader(full)
	if err != nil {
		t.Fatal(err)
	}
	ends, _ := recordEnds(t, full)
	dataEnd := ends[len(ends)-1]
	garbage := []byte("\xde\xad\xbe\xef garbage that stops the scan")
	for name, other := range map[string]segHeader{
		"other seq":  {version: h.version, seq: h.seq + 1, first: h.first, salt: h.salt},
		"other salt": {version: h.version, seq: h.seq, first: h.first, salt: h.salt ^ 1},
	} {
		m := appendMarker(nil, other, record.MarkerSynced, uint64(dataEnd+1))
		b := append(append(append([]byte(nil), full[:dataEnd]...), garbage...), m...)
		fs := liveClone(img)
		writeFile(t, fs, tailPath, b)
		l, err := Open(memDir, &Options{FS: fs, SegmentSize: 64 << 10})
		if err != nil {
			t.Fatalf("%s: Open: %v", name, err)
		}
		if st := l.Recovery().State; st != RecoveryTornTail {
			t.Fatalf("%s: state %v, want torn-tail", name, st)
		}
		checkRange(t, l, 1, 30)
		l.Close()
	}
	// The same marker bound to this segment is proof: the garbage is
	// damage of durable bytes.
	m := appendMarker(nil, h, record.MarkerSynced, uint64(dataEnd+1))
	b := append(append(append([]byte(nil), full[:dataEnd]...), garbage...), m...)
	fs := liveClone(img)
	writeFile(t, fs, tailPath, b)
	if _, err := Open(memDir, &Options{FS: fs, SegmentSize: 64 << 10}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bound marker after damage: Open = %v, want ErrCorrupt", err)
	}
}

// TestVerifyFindsForeignMarker: a marker of another segment written into a
// sealed segment (a misdirected write: a CRC-valid record in the wrong
// place) is reported by Verify, which judges records by recovery's rules.
func TestVerifyFindsForeignMarker(t *testing.T) {
	fs, o := closedLog(t, 60)
	segs := memSegments(t, fs)
	if len(segs) < 3 {
		t.Fatalf("want 3 segments, have %d", len(segs))
	}
	b := readFile(t, fs, segs[1])
	h, err := decodeSegHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	at := -1
	for off := segHeaderSize; off < len(b); {
		rh, _, err := record.Decode(b[off:])
		if err != nil {
			break
		}
		if rh.Type == record.Marker {
			at = off
			break
		}
		off += rh.Size()
	}
	if at < 0 {
		t.Fatal("no marker in the second segment")
	}
	rh, _, _ := record.Decode(b[at:])
	other := h
	other.seq++
	copy(b[at:], appendMarker(nil, other, record.MarkerSynced, rh.Index))
	writeFile(t, fs, segs[1], b)
	l := mustOpen(t, memDir, o)
	defer l.Close()
	err = l.Verify(nil)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), fmt.Sprintf("offset %d", at)) {
		t.Fatalf("Verify = %v, want ErrCorrupt at offset %d", err, at)
	}
	checkRange(t, l, 1, 60) // the entries themselves are intact
}

// TestLostPageBeforeProof: a sector of durable records in the unsealed
// tail reads back as zeros (a lost write); the zero header gives the proof
// walk no length, so it searches on and finds the later markers: ErrCorrupt,
// never a zeroed or torn tail that silently shortens the log.
func TestLostPageBeforeProof(t *testing.T) {
	img := crashedLog(t, 40, 1, Options{SegmentSize: 64 << 10})
	segs := memSegments(t, img)
	tailPath := segs[len(segs)-1]
	full := readFile(t, img, tailPath)
	ends, _ := recordEnds(t, full)
	for _, at := range []int64{ends[5], ends[5] + 7, 512} {
		b := append([]byte(nil), full...)
		clear(b[at : at+512])
		fs := liveClone(img)
		writeFile(t, fs, tailPath, b)
		if _, err := Open(memDir, &Options{FS: fs, SegmentSize: 64 << 10}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("512 zero bytes at %d: Open = %v, want ErrCorrupt", at, err)
		}
	}
}
