package walkv_test

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/walkv"
)

// Example opens a database (here on an in-memory filesystem), serves it
// on a loopback port and talks to it with go-redis.
func Example() {
	db, err := walkv.Open("data", &walkv.Options{FS: vfs.NewMem(), SegmentSize: 1 << 20})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	srv, err := walkv.Listen(db, "127.0.0.1:0", nil)
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	defer c.Close()
	fmt.Println(c.Set(ctx, "greeting", "hello", 0).Val()) // durable when it returns
	fmt.Println(c.Get(ctx, "greeting").Val())
	pipe := c.TxPipeline() // MULTI/EXEC: one transaction in the log
	pipe.Incr(ctx, "n")
	pipe.HSet(ctx, "h", "f", "v")
	_, err = pipe.Exec(ctx)
	fmt.Println(err, c.HGet(ctx, "h", "f").Val())
	// Output:
	// OK
	// hello
	// <nil> v
}
