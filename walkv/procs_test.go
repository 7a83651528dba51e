package walkv

import (
	"context"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// TestAutoProcs: with AutoProcs, GOMAXPROCS is one per event loop under
// everysec and no, the runtime's default under always and while a
// snapshot is being written, and the default again after Close.
func TestAutoProcs(t *testing.T) {
	if os.Getenv("GOMAXPROCS") != "" {
		t.Skip("GOMAXPROCS is set in the environment")
	}
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	runtime.SetDefaultGOMAXPROCS()
	def := runtime.GOMAXPROCS(0)
	if def < 2 {
		t.Skip("the runtime's default is one P: nothing to lower")
	}

	hold, inSnap := make(chan struct{}), make(chan struct{}, 1)
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	inj := errorfs.InjectorFunc(func(op errorfs.Op, path string) error {
		if op == errorfs.OpCreate && strings.HasSuffix(path, ".snap"+tmpSuffix) {
			inSnap <- struct{}{}
			<-hold
		}
		return nil
	})
	db, err := Open(testDir, &Options{FS: errorfs.Wrap(vfs.NewMem(), inj), AppendFsync: FsyncEverysec, SegmentSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	defer release() // before Close, which waits for the snapshot
	srv, err := Listen(db, "127.0.0.1:0", &ServerOptions{EventLoops: 1, AutoProcs: true})
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr().String()})
	defer c.Close()
	ctx := context.Background()
	want := func(step string, n int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); runtime.GOMAXPROCS(0) != n; {
			if time.Now().After(deadline) {
				t.Fatalf("%s: GOMAXPROCS %d, want %d", step, runtime.GOMAXPROCS(0), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	want("everysec", 1)
	if err := c.ConfigSet(ctx, "appendfsync", "always").Err(); err != nil {
		t.Fatal(err)
	}
	want("always", def)
	if err := c.ConfigSet(ctx, "appendfsync", "no").Err(); err != nil {
		t.Fatal(err)
	}
	want("no", 1)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	<-inSnap
	want("snapshot being written", def)
	release()
	want("snapshot written", 1)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	want("after Close", def)
}
