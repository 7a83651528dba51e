package walkv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
)

// fakeReplicator applies proposals at once on one DB, with the
// leadership and the errors a test sets.
type fakeReplicator struct {
	db         atomic.Pointer[DB]
	leader     atomic.Bool
	confirmErr atomic.Pointer[error]
	proposeErr atomic.Pointer[error]
	confirms   atomic.Int64
	lease      atomic.Bool // lease of the last ConfirmRead
}

func (f *fakeReplicator) Propose(_ context.Context, data []byte) (any, error) {
	if p := f.proposeErr.Load(); p != nil {
		return nil, *p
	}
	return f.db.Load().ApplyEntry(data), nil
}

func (f *fakeReplicator) Leader() (string, bool) { return "127.0.0.1:9", f.leader.Load() }

func (f *fakeReplicator) ConfirmRead(_ context.Context, lease bool) error {
	f.confirms.Add(1)
	f.lease.Store(lease)
	if p := f.confirmErr.Load(); p != nil {
		return *p
	}
	return nil
}

func (f *fakeReplicator) fail(p *atomic.Pointer[error], err error) {
	if err == nil {
		p.Store(nil)
		return
	}
	p.Store(&err)
}

func newClusterEnv(t *testing.T, mode ReadMode) (*env, *fakeReplicator) {
	f := &fakeReplicator{}
	f.leader.Store(true)
	e := newEnv(t, &Options{Replicator: f, ReadMode: mode})
	f.db.Store(e.db)
	return e, f
}

// TestClusterReadRouting: in the linearizable and lease modes every read
// waits for ConfirmRead (and is redirected or refused by its error); in
// the stale mode none does; reads in MULTI go through the log.
func TestClusterReadRouting(t *testing.T) {
	e, f := newClusterEnv(t, ReadLinearizable)
	e.do("SET k v")
	if got := e.do("GET k"); got != "v" || f.confirms.Load() != 1 || f.lease.Load() {
		t.Fatalf("GET k = %v after %d ConfirmRead (lease %v), want v after 1 (no lease)", got, f.confirms.Load(), f.lease.Load())
	}
	f.fail(&f.confirmErr, fmt.Errorf("%w: deposed", ErrNotLeader))
	if got := e.do("GET k"); got != "ERR:MOVED 0 127.0.0.1:9" {
		t.Errorf("GET on a deposed leader = %v, want MOVED", got)
	}
	f.fail(&f.confirmErr, errors.New("no quorum answered"))
	if got, _ := e.do("GET k").(string); !strings.HasPrefix(got, "ERR:TRYAGAIN cluster: read not served") {
		t.Errorf("GET without a confirmation = %v, want TRYAGAIN", got)
	}
	before := f.confirms.Load()
	if got := e.do("MULTI"); got != "OK" {
		t.Fatal(got)
	}
	e.do("GET k")
	if got := e.do("EXEC"); fmt.Sprint(got) != "[v]" || f.confirms.Load() != before {
		t.Errorf("EXEC [GET k] = %v with %d ConfirmRead, want [v] with none", got, f.confirms.Load()-before)
	}
	f.leader.Store(false)
	if got := e.do("GET k"); got != "ERR:MOVED 0 127.0.0.1:9" {
		t.Errorf("GET on a follower = %v, want MOVED", got)
	}

	e, f = newClusterEnv(t, ReadLease)
	e.do("SET k v")
	if got := e.do("GET k"); got != "v" || !f.lease.Load() {
		t.Errorf("lease mode: GET k = %v, lease %v", got, f.lease.Load())
	}

	e, f = newClusterEnv(t, ReadStale)
	e.do("SET k v")
	f.leader.Store(false)
	if got := e.do("GET k"); got != "v" || f.confirms.Load() != 0 {
		t.Errorf("stale mode, follower: GET k = %v after %d ConfirmRead, want v after none", got, f.confirms.Load())
	}
}

// TestClusterWriteOutcomes: a proposal refused before the log is a
// definite error (TRYAGAIN, or ERR ... not applied if too large); any
// other failure is "outcome unknown".
func TestClusterWriteOutcomes(t *testing.T) {
	e, f := newClusterEnv(t, ReadLinearizable)
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w: no quorum reachable", ErrRejected), "ERR:TRYAGAIN cluster: not applied: "},
		{fmt.Errorf("%w: %w", ErrRejected, wal.ErrTooLarge), "ERR:ERR cluster: command too large, not applied: "},
		{errors.New("leadership lost while committing log"), "ERR:ERR cluster: outcome unknown: "},
		{fmt.Errorf("%w", ErrNotLeader), "ERR:MOVED 0 127.0.0.1:9"},
	} {
		f.fail(&f.proposeErr, tt.err)
		if got, _ := e.do("SET k v").(string); !strings.HasPrefix(got, tt.want) {
			t.Errorf("SET with Propose error %q: %q, want prefix %q", tt.err, got, tt.want)
		}
	}
}

func TestReadModeOption(t *testing.T) {
	for m, want := range map[ReadMode]string{ReadLinearizable: "linearizable", ReadLease: "lease", ReadStale: "stale", 7: "ReadMode(7)"} {
		if m.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(m), m.String(), want)
		}
	}
	if _, err := Open(testDir, &Options{FS: vfs.NewMem(), Replicator: &fakeReplicator{}, ReadMode: 7}); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("Open with ReadMode 7: %v, want ErrInvalidOption", err)
	}
}
