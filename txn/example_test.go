package txn_test

import (
	"fmt"

	"github.com/waldb/wal"
	"github.com/waldb/wal/txn"
	"github.com/waldb/wal/vfs"
)

// Example logs one atomic and two streaming transactions, then recovers
// the committed ones after a checkpoint that reflects transaction 1.
func Example() {
	l, err := wal.Open("db", &wal.Options{FS: vfs.NewMem(), SegmentSize: 64 << 10})
	if err != nil {
		panic(err)
	}
	defer l.Close()
	w := txn.NewWriter(l, 0)

	// Atomic: the whole transaction is one wal batch.
	w.Commit([]txn.Op{{Kind: txn.KindPut, Key: []byte("a"), Value: []byte("1")}}) // id 1

	// Streaming: records go to the log as they are made.
	big, _ := w.Begin()  // id 2
	lost, _ := w.Begin() // id 3, never finished (as after a crash)
	big.Put([]byte("b"), []byte("2"))
	lost.Put([]byte("c"), []byte("3"))
	big.Delete([]byte("a"))
	big.Commit()

	st, err := txn.Recover(l, 1, func(id uint64, op txn.Op) error {
		fmt.Printf("txn %d: %s %s\n", id, op.Kind, op.Key)
		return nil
	}, nil)
	fmt.Println(st.Committed, "replayed,", st.Skipped, "skipped,", st.Unfinished, "unfinished, max id", st.MaxID, err)
	// Output:
	// txn 2: put b
	// txn 2: delete a
	// 1 replayed, 1 skipped, 1 unfinished, max id 3 <nil>
}
