package wal_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/waldb/wal"
)

// exampleDir returns a new temporary directory and a function removing it.
func exampleDir() (string, func()) {
	dir, err := os.MkdirTemp("", "wal-example-")
	if err != nil {
		log.Fatal(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}

// mustWrite writes entries with consecutive indexes after the last one.
func mustWrite(w *wal.Log, entries ...string) {
	for _, e := range entries {
		if _, err := w.Append([]byte(e)); err != nil {
			log.Fatal(err)
		}
	}
}

// printIndexes prints the first and last index of w.
func printIndexes(w *wal.Log) {
	first, err := w.FirstIndex()
	if err != nil {
		log.Fatal(err)
	}
	last, err := w.LastIndex()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("first %d, last %d\n", first, last)
}

func ExampleOpen() {
	dir, cleanup := exampleDir()
	defer cleanup()

	// nil options: SyncAlways, 64 MiB segments.
	w, err := wal.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	printIndexes(w) // a new log

	// Write takes the index explicitly: it must be LastIndex()+1.
	for i, s := range []string{"alpha", "beta", "gamma"} {
		if err := w.Write(uint64(i+1), []byte(s)); err != nil {
			log.Fatal(err)
		}
	}
	for i := uint64(1); i <= 3; i++ {
		data, err := w.Read(i)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d: %s\n", i, data)
	}
	printIndexes(w)
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// first 0, last 0
	// 1: alpha
	// 2: beta
	// 3: gamma
	// first 1, last 3
}

func ExampleLog_Append() {
	dir, cleanup := exampleDir()
	defer cleanup()
	w, err := wal.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()

	// Append is safe for concurrent use; each call returns the index its
	// entry took, and concurrent writers share fsyncs.
	var (
		mu      sync.Mutex
		indexes []uint64
		wg      sync.WaitGroup
	)
	for g := range 4 {
		wg.Go(func() {
			index, err := w.Append(fmt.Appendf(nil, "from writer %d", g))
			if err != nil {
				log.Fatal(err)
			}
			mu.Lock()
			indexes = append(indexes, index)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(indexes)
	fmt.Println("indexes:", indexes)
	printIndexes(w)
	// Output:
	// indexes: [1 2 3 4]
	// first 1, last 4
}

func ExampleLog_WriteBatch() {
	dir, cleanup := exampleDir()
	defer cleanup()
	w, err := wal.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()

	// A batch is written as one unit: after a crash, all of it or none.
	var b wal.Batch
	b.Write(1, []byte("debit A"))
	b.Write(2, []byte("credit B"))
	if err := w.WriteBatch(&b); err != nil {
		log.Fatal(err)
	}

	// Indexes must continue from LastIndex()+1.
	b.Clear()
	b.Write(7, []byte("out of order"))
	err = w.WriteBatch(&b)
	fmt.Println("out of order:", errors.Is(err, wal.ErrOutOfOrder))

	// AppendBatch assigns the indexes and returns the first.
	b.Clear()
	b.Append([]byte("debit C"))
	b.Append([]byte("credit D"))
	first, err := w.AppendBatch(&b)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("appended from", first)
	printIndexes(w)
	// Output:
	// out of order: true
	// appended from 3
	// first 1, last 4
}

func ExampleLog_TruncateFront() {
	dir, cleanup := exampleDir()
	defer cleanup()
	w, err := wal.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	mustWrite(w, "a", "b", "c", "d", "e")

	// Drop entries 1 and 2, as after a snapshot covering them.
	if err := w.TruncateFront(3); err != nil {
		log.Fatal(err)
	}
	printIndexes(w)
	_, err = w.Read(2)
	fmt.Println("read 2:", errors.Is(err, wal.ErrNotFound))

	// TruncateFront(LastIndex()+1) empties the log but keeps its position:
	// the next entry takes index 6.
	if err := w.TruncateFront(6); err != nil {
		log.Fatal(err)
	}
	printIndexes(w)
	index, err := w.Append([]byte("f"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("appended at", index)
	// Output:
	// first 3, last 5
	// read 2: true
	// first 6, last 5
	// appended at 6
}

func ExampleLog_TruncateBack() {
	dir, cleanup := exampleDir()
	defer cleanup()
	w, err := wal.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	mustWrite(w, "a", "b", "c", "d", "e")

	// Remove entries after 3, as a raft follower does on a conflict.
	if err := w.TruncateBack(3); err != nil {
		log.Fatal(err)
	}
	printIndexes(w)

	// Writing continues at 4 with new data.
	if err := w.Write(4, []byte("D")); err != nil {
		log.Fatal(err)
	}
	data, err := w.Read(4)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("4: %s\n", data)
	// Output:
	// first 1, last 3
	// 4: D
}

func ExampleLog_Iter() {
	dir, cleanup := exampleDir()
	defer cleanup()
	w, err := wal.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	mustWrite(w, "a", "b", "c")
	ctx := context.Background()

	// Without Follow, Next returns io.EOF at the end of the log.
	it := w.Iter(0, nil) // 0: from the first entry
	for {
		index, data, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d: %s\n", index, data)
	}

	// With Follow, Next waits for the next entry: here one appended by
	// another goroutine.
	follow := w.Iter(4, &wal.IterOptions{Follow: true})
	done := make(chan struct{})
	go func() {
		defer close(done)
		mustWrite(w, "d")
	}()
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	index, data, err := follow.Next(waitCtx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("followed %d: %s\n", index, data)
	<-done

	// A follower stops waiting when its context is done.
	stopped, stop := context.WithCancel(ctx)
	stop()
	_, _, err = follow.Next(stopped)
	fmt.Println("canceled:", errors.Is(err, context.Canceled))
	// Output:
	// 1: a
	// 2: b
	// 3: c
	// followed 4: d
	// canceled: true
}

func ExampleLog_Recovery() {
	dir, cleanup := exampleDir()
	defer cleanup()
	w, err := wal.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.Recovery().State)
	mustWrite(w, "a", "b")
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	// Reopening a cleanly closed log drops nothing.
	w, err = wal.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	rep := w.Recovery()
	fmt.Println(rep.State)
	fmt.Println(rep)
	// Output:
	// new
	// clean
	// clean: entries [1, 2] in 1 segments
}

// An EventListener sees each group commit and fdatasync; package walprom
// turns the same events into Prometheus metrics.
func ExampleEventListener() {
	dir, cleanup := exampleDir()
	defer cleanup()
	var writes, entries, syncs int
	l, err := wal.Open(dir, &wal.Options{EventListener: &wal.EventListener{
		WriteEnd: func(w wal.WriteInfo) { // also called for writes of markers only (Entries 0)
			if w.Entries > 0 {
				writes++
				entries += w.Entries
			}
		},
		SyncEnd: func(wal.SyncInfo) { syncs++ },
	}})
	if err != nil {
		log.Fatal(err)
	}
	var b wal.Batch
	for i := range 10 {
		b.Append(fmt.Appendf(nil, "entry %d", i))
	}
	if _, err := l.AppendBatch(&b); err != nil { // one write and one fdatasync for all ten
		log.Fatal(err)
	}
	if err := l.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("entries %d in %d write(s); at least one fdatasync: %v\n", entries, writes, syncs >= 1)
	// Output:
	// entries 10 in 1 write(s); at least one fdatasync: true
}
