package wal

import (
	"errors"
	"fmt"

	"github.com/waldb/wal/vfs"
)

// prepared is a segment file created and preallocated ahead of need, under
// a temporary name, by a background goroutine (etcd's file pipeline), so a
// rotation does not wait for file creation and allocation.
type prepared struct {
	done chan struct{} // closed when f, tmp and err are set
	f    vfs.File
	tmp  string
	err  error
}

// startPrepare begins preparing the next segment file. REQUIRES: mu held.
func (l *Log) startPrepare() {
	if l.prep != nil || l.closed {
		return
	}
	p := &prepared{done: make(chan struct{}), tmp: l.tmpName()}
	l.prep = p
	go func() {
		p.f, p.err = l.prepareFile(p.tmp)
		close(p.done)
	}()
}

// tmpName returns a fresh temporary file path. REQUIRES: mu held.
func (l *Log) tmpName() string {
	l.tmpSeq++
	return joinPath(l.dir, fmt.Sprintf("prepare-%d%s", l.tmpSeq, tmpSuffix))
}

// prepareFile creates tmp and preallocates it to the segment size. A
// filesystem that cannot preallocate is not an error; a full disk is.
func (l *Log) prepareFile(tmp string) (vfs.File, error) {
	f, err := l.fs.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("wal: creating %s: %w", tmp, err)
	}
	if !l.opts.NoPreallocate {
		if err := f.Preallocate(int64(l.opts.SegmentSize)); err != nil && !errors.Is(err, vfs.ErrUnsupported) {
			f.Close()
			_ = l.fs.Remove(tmp)
			return nil, fmt.Errorf("wal: preallocating %s: %w", tmp, err)
		}
	}
	return f, nil
}

// claimPrepared takes the file being prepared, if any, and a fresh
// temporary name to prepare one now if it is missing or failed.
// REQUIRES: mu held.
func (l *Log) claimPrepared() (*prepared, string) {
	p := l.prep
	l.prep = nil
	return p, l.tmpName()
}

// openPrepared waits for p's file, or prepares tmp now if there is none or
// its preparation failed. It needs no lock.
func (l *Log) openPrepared(p *prepared, tmp string) (vfs.File, string, error) {
	if p != nil {
		<-p.done
		if p.err == nil {
			return p.f, p.tmp, nil
		}
	}
	f, err := l.prepareFile(tmp)
	return f, tmp, err
}

// dropPrepared removes an unused prepared file. REQUIRES: mu held.
func (l *Log) dropPrepared() {
	if p := l.prep; p != nil {
		l.prep = nil
		<-p.done
		if p.err == nil {
			p.f.Close()
			_ = l.fs.Remove(p.tmp)
		}
	}
}

// createSegment makes a new segment durable under its final name. The
// header is written and fsynced before the rename, so a named segment never
// has a torn header; the directory is fsynced after it, so the name
// survives a crash before any entry in the segment is acknowledged.
// REQUIRES: mu held.
func (l *Log) createSegment(seq, first uint64, flags uint16) (*segment, error) {
	p, tmp := l.claimPrepared()
	return l.buildSegment(p, tmp, seq, first, flags)
}

// buildSegment does createSegment's I/O, from a claimed prepared file. It
// needs no lock.
func (l *Log) buildSegment(p *prepared, tmp string, seq, first uint64, flags uint16) (*segment, error) {
	f, tmp, err := l.openPrepared(p, tmp)
	if err != nil {
		return nil, err
	}
	h := segHeader{version: formatVersion, flags: flags, seq: seq, first: first, salt: l.salt(seq)}
	name := segmentName(seq, first)
	if err := l.installSegment(f, tmp, name, h); err != nil {
		f.Close()
		_ = l.fs.Remove(tmp)
		return nil, err
	}
	return newSegment(renamed(f, tmp, joinPath(l.dir, name)), l.dir, name, h), nil
}

func (l *Log) installSegment(f vfs.File, tmp, name string, h segHeader) error {
	if _, err := f.WriteAt(h.encode(), 0); err != nil {
		return fmt.Errorf("wal: writing header of %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("wal: syncing new segment %s: %w", name, err)
	}
	if err := vfs.Replace(l.fs, l.dir, tmp, joinPath(l.dir, name)); err != nil {
		return fmt.Errorf("wal: installing segment %s: %w", name, err)
	}
	return nil
}

// newTail creates a tail segment whose first entry is last+1 and starts
// preparing the one after it. All earlier bytes must be durable.
// REQUIRES: mu held; no flush in progress.
func (l *Log) newTail(seq uint64, flags uint16) error {
	s, err := l.createSegment(seq, l.last+1, flags)
	if err != nil {
		return l.failIfUnknown(err)
	}
	l.setTail(s)
	return nil
}

// setTail makes s, new and empty, the tail. REQUIRES: mu held; everything
// written is durable.
func (l *Log) setTail(s *segment) {
	l.tail = s
	l.tailOffs = l.tailOffs[:0]
	l.tailBase = l.lsn - segHeaderSize
	l.written, l.synced, l.entryEnd = l.lsn, l.lsn, l.lsn
	l.startPrepare()
}

// preallocTail extends the tail's allocation to the segment size, so that
// fdatasync need not write allocation metadata. Failure only costs speed.
// REQUIRES: mu held.
func (l *Log) preallocTail() {
	if !l.opts.NoPreallocate {
		_ = l.tail.f.Preallocate(int64(l.opts.SegmentSize))
	}
}

// sealSegment appends the index block and trailer to s after its records
// (which end at end), cuts the file there and fsyncs it, then seals s. The
// bytes before end must already be durable: the trailer claims them.
func (l *Log) sealSegment(s *segment, offs []uint32, end int64) error {
	blk := appendIndexBlock(make([]byte, 0, 4*len(offs)+segTrailerSize), offs)
	t := segTrailer{first: s.first, count: uint64(len(offs)), indexOff: uint64(end), indexCRC: maskedCRC(blk)}
	blk = append(blk, t.encode()...)
	if _, err := s.f.WriteAt(blk, end); err != nil {
		return fmt.Errorf("wal: sealing %s: %w", s.name, err)
	}
	size := end + int64(len(blk))
	if err := truncateSync(s, size); err != nil {
		return err
	}
	s.seal(t, size, l.opts.NoMmap)
	s.guess.Store(s.evenlySpaced(blk))
	s.indexState.Store(1)
	return nil
}

// rotate seals the tail and starts the next segment. A failure to seal is
// sticky; a failure to create the next segment (a full disk) is not: the
// log has no tail until a later write creates one.
//
// The seal (index block, truncation, fdatasync) and the new segment's
// creation (waiting for the prepared file, header fsync, rename, directory
// fsync) run without mu. The exclusive gate keeps writers, truncations,
// Reset and Close out meanwhile, and nothing others read under mu changes
// during the I/O: while the old tail is sealed it stays the tail (its
// records below end are durable and untouched, and its sealed state is
// read by nobody until it is published), and while the new file is built
// the log has no tail and the old one is published sealed. So readers of
// the tail, LastIndex, Bounds, followers and Verify no longer wait for a
// rotation's fsyncs; writers still do.
// REQUIRES: mu held; exclusive.
func (l *Log) rotate() error {
	t := l.tail
	if err := l.syncAll(); err != nil {
		return err
	}
	offs, end := l.tailOffs, l.lsn-l.tailBase
	l.mu.Unlock()
	err := l.sealSegment(t, offs, end)
	l.mu.Lock()
	if err != nil {
		for l.flushing { // a commit may have started an (empty) flush meanwhile
			l.cond.Wait()
		}
		l.fail(err)
		return l.err
	}
	l.sealed = append(l.sealed, t)
	l.tail = nil
	l.publish()
	if l.ev != nil {
		l.ev.sealed(SegmentInfo{Name: t.name, Seq: t.seq, FirstIndex: t.first, LastIndex: t.first + uint64(len(offs)) - 1, Sealed: true})
	}
	p, tmp := l.claimPrepared()
	first := l.last + 1
	l.mu.Unlock()
	s, err := l.buildSegment(p, tmp, t.seq+1, first, 0)
	l.mu.Lock()
	if err != nil {
		return l.failIfUnknown(err)
	}
	l.setTail(s)
	return nil
}

// failIfUnknown fail-stops the log if creating a segment failed at or
// after its rename (vfs.ErrOutcomeUnknown: the directory fsync, or a
// rename that took effect and still reported an error), as a failed META
// replace does: the directory's durable state is unknown, so the log
// must not go on as if the segment did not exist. Any earlier failure
// (a full disk while writing the header) changed nothing on disk and is
// returned as is: a later write retries.
// REQUIRES: mu held.
func (l *Log) failIfUnknown(err error) error {
	if !errors.Is(err, vfs.ErrOutcomeUnknown) {
		return err
	}
	for l.flushing {
		l.cond.Wait()
	}
	l.fail(err)
	return l.err
}

// ensureTail creates the tail if an earlier rotation could not.
// REQUIRES: mu held.
func (l *Log) ensureTail() error {
	if l.tail != nil {
		return nil
	}
	return l.newTail(l.nextSeq(), 0)
}

// salt returns the salt of a new segment: random, unless a test fixed it.
func (l *Log) salt(seq uint64) uint32 {
	if l.opts.segmentSalt != nil {
		return l.opts.segmentSalt(seq)
	}
	return newSalt()
}

// nextSeq is the sequence number for a new segment: above every segment
// and above META's backSeq, since entries in segments with seq <= backSeq
// above the TruncateBack index are void (a crash inside TruncateBack can
// leave no segment with that seq). REQUIRES: mu held.
func (l *Log) nextSeq() uint64 {
	return max(l.maxSeq(), l.meta.backSeq) + 1
}

// maxSeq is the largest sequence number in use. REQUIRES: mu held.
func (l *Log) maxSeq() uint64 {
	if l.tail != nil {
		return l.tail.seq
	}
	if n := len(l.sealed); n > 0 {
		return l.sealed[n-1].seq
	}
	return 0
}
