package wal

import (
	"sync"
	"time"
)

// background runs the periodic work of the SyncInterval and SyncNever
// policies: handing buffered bytes to the OS every FlushInterval, and under
// SyncInterval an fdatasync every SyncInterval.
type background struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func (l *Log) startBackground() {
	if l.opts.SyncPolicy == SyncAlways {
		return
	}
	l.bg.stop = make(chan struct{})
	l.bg.wg.Add(1)
	go l.tick()
}

func (l *Log) stopBackground() {
	if l.bg.stop != nil {
		close(l.bg.stop)
		l.bg.wg.Wait()
	}
}

// tick is the background loop. Tickers use the monotonic clock.
func (l *Log) tick() {
	defer l.bg.wg.Done()
	flushC, stopFlush := l.opts.newTicker(l.opts.FlushInterval)
	defer stopFlush()
	var syncC <-chan time.Time
	if l.opts.SyncPolicy == SyncInterval {
		c, stop := l.opts.newTicker(l.opts.SyncInterval)
		defer stop()
		syncC = c
	}
	for {
		select {
		case <-l.bg.stop:
			return
		case <-flushC:
			l.flushTick()
		case <-syncC:
			l.syncTick()
		}
	}
}

// flushTick hands buffered entries to the OS.
func (l *Log) flushTick() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.flushing && l.err == nil && l.tail != nil && l.written < l.entryEnd {
		l.flush(false)
	}
}

// syncTick makes every entry durable.
func (l *Log) syncTick() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil && l.tail != nil && l.synced < l.entryEnd {
		_ = l.waitDurable(l.entryEnd)
	}
}
