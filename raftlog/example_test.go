package raftlog_test

import (
	"fmt"
	"log"

	"github.com/hashicorp/raft"
	wal "github.com/waldb/wal"
	"github.com/waldb/wal/raftlog"
	"github.com/waldb/wal/vfs"
)

// The encoding of the package doc's example entry.
func ExampleAppendLog() {
	b := raftlog.AppendLog(nil, &raft.Log{Index: 5, Term: 2, Type: raft.LogCommand, Data: []byte("hi")})
	fmt.Printf("% x\n", b)
	var l raft.Log
	if err := raftlog.DecodeLog(b, &l); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("index %d term %d type %v data %q\n", l.Index, l.Term, l.Type, l.Data)
	// Output:
	// 01 00 00 05 02 68 69
	// index 5 term 2 type LogCommand data "hi"
}

// A Store is both of raft's stores; pass it twice to raft.NewRaft. This
// example drives it as raft would: append, compact, restore a snapshot.
func ExampleOpen() {
	// An in-memory filesystem with small segments keeps the example off
	// the disk; nil options mean the OS and the wal's defaults.
	opts := &raftlog.Options{FS: vfs.NewMem(), Log: &wal.Options{SegmentSize: 1 << 16}}
	s, err := raftlog.Open("/node1/raft", opts)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	report := func(what string) {
		first, _ := s.FirstIndex()
		last, _ := s.LastIndex()
		fmt.Printf("%-26s [%d, %d]\n", what, first, last)
	}
	report("new store:")
	var batch []*raft.Log
	for i := uint64(1); i <= 10; i++ {
		batch = append(batch, &raft.Log{Index: i, Term: 1, Data: fmt.Appendf(nil, "cmd %d", i)})
	}
	if err := s.StoreLogs(batch); err != nil { // one atomic, fsynced write
		log.Fatal(err)
	}
	report("after StoreLogs:")
	if err := s.DeleteRange(1, 6); err != nil { // compaction: TruncateFront(7)
		log.Fatal(err)
	}
	report("after compaction:")
	if err := s.DeleteRange(7, 10); err != nil { // after a snapshot restore: everything
		log.Fatal(err)
	}
	report("after deleting everything:")
	if err := s.StoreLog(&raft.Log{Index: 500, Term: 3, Data: []byte("next")}); err != nil {
		log.Fatal(err)
	}
	report("after StoreLog(500):")

	var l raft.Log
	if err := s.GetLog(500, &l); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("entry 500: term %d %q\n", l.Term, l.Data)
	fmt.Println("entry 7:", s.GetLog(7, &l))

	if err := s.SetUint64([]byte("CurrentTerm"), 3); err != nil {
		log.Fatal(err)
	}
	term, _ := s.GetUint64([]byte("CurrentTerm"))
	_, err = s.Get([]byte("LastVoteCand"))
	fmt.Println("term:", term, "vote:", err)
	// Output:
	// new store:                 [0, 0]
	// after StoreLogs:           [1, 10]
	// after compaction:          [7, 10]
	// after deleting everything: [0, 0]
	// after StoreLog(500):       [500, 500]
	// entry 500: term 3 "next"
	// entry 7: log not found
	// term: 3 vote: not found
}
