package wal_test

import (
	"fmt"
	"log"
	"os"

	wal "github.com/waldb/wal/tidwall"
)

// A tidwall/wal program, unchanged but for its import path.
func Example() {
	dir, err := os.MkdirTemp("", "tidwall-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	l, err := wal.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	l.Write(1, []byte("first entry"))
	l.Write(2, []byte("second entry"))
	b := new(wal.Batch)
	b.Write(3, []byte("third entry"))
	b.Write(4, []byte("fourth entry"))
	if err := l.WriteBatch(b); err != nil { // clears b
		log.Fatal(err)
	}
	data, _ := l.Read(3)
	fmt.Printf("%s\n", data)
	fmt.Println(l.TruncateFront(5) == wal.ErrOutOfRange) // no AllowEmpty: one entry must remain
	l.TruncateFront(4)
	first, _ := l.FirstIndex()
	last, _ := l.LastIndex()
	fmt.Println(first, last)
	// Output:
	// third entry
	// true
	// 4 4
}
