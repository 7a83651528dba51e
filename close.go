package wal

import (
	"github.com/waldb/wal/record"
)

// Close makes every entry durable, marks the log closed cleanly, and
// releases the directory lock. Every later call returns ErrClosed. If the
// log had failed (ErrFailed), Close releases it and returns that error.
// Before it returns, Close stops the syncer and runs every pending
// NotifyDurable callback: with nil if its entry is durable (the close
// synced it), else with Close's error (ErrClosed if Close had none).
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.wake()
	l.cond.Broadcast()
	syncer := l.async.syncerDone
	l.mu.Unlock()
	l.stopBackground()
	l.stopSyncer(syncer)
	defer l.ev.close()

	var notes []durableNote
	var synced int64
	var err error
	defer func() { runNotes(notes, synced, err) }() // after mu is released
	l.mu.Lock()
	defer l.mu.Unlock()
	defer func() { notes, synced = l.takeNotes() }()
	for l.flushing || l.syncing {
		l.cond.Wait()
	}
	err = l.err
	if err == nil && l.tail != nil {
		err = l.exclusively(l.closeTail)
	}
	l.dropPrepared()
	for _, s := range l.sealed {
		s.retire()
	}
	if l.tail != nil {
		l.tail.retire()
	}
	l.publish()
	if l.lock != nil {
		if lerr := l.lock.Close(); err == nil {
			err = lerr
		}
	}
	return err
}

// closeTail syncs everything, appends a clean-close marker (whose value is
// its own offset) and syncs it, then seals the tail, so that reopening
// scans nothing and reports a clean shutdown. Open unseals it again if it
// has room. REQUIRES: mu held; exclusive.
func (l *Log) closeTail() error {
	if err := l.syncAll(); err != nil {
		return err
	}
	off := l.lsn - l.tailBase
	n := len(l.buf)
	l.buf = appendMarker(l.buf, l.tail.header(), record.MarkerClosed, uint64(off))
	l.lsn += int64(len(l.buf) - n)
	if err := l.syncAll(); err != nil {
		return err
	}
	if err := l.sealSegment(l.tail, l.tailOffs, l.lsn-l.tailBase); err != nil {
		l.fail(err)
		return l.err
	}
	l.sealed, l.tail = append(l.sealed, l.tail), nil
	return nil
}
