package walkv

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/waldb/wal/vfs"
)

// TestClientCommands: CLIENT SETNAME/GETNAME/LIST/INFO/KILL/NO-EVICT as
// Redis tools use them.
func TestClientCommands(t *testing.T) {
	srv, _ := serveWith(t, "127.0.0.1:0", &ServerOptions{EventLoops: 2})
	ctx := context.Background()
	a := clientOf(t, srv, redis.Options{})
	b := dialResp(t, srv.Addr().String())
	if got := doWith(t, a, "CLIENT", "SETNAME", "bad name"); !matchReply(got, "ERR:ERR Client names cannot contain spaces, newlines or special characters.") {
		t.Errorf("CLIENT SETNAME with a space: %v", got)
	}
	steps(t, a, []step{
		{"CLIENT SETNAME alpha", "OK"},
		{"CLIENT GETNAME", "alpha"},
		{"CLIENT NO-EVICT on", "OK"},
		{"CLIENT NO-EVICT maybe", "ERR:ERR syntax error"},
		{"CLIENT LIST TYPE nosuch", "ERR:ERR Unknown client type 'nosuch'"},
		{"CLIENT LIST ID 0", ""},
		{"CLIENT LIST ID abc", "ERR:ERR Invalid client ID"},
		{"CLIENT KILL ID 0", "ERR:ERR client-id should be greater than 0"},
		{"CLIENT KILL FOO bar", "ERR:ERR syntax error"},
		{"CLIENT KILL 1.2.3.4:5", "ERR:ERR No such client"},
	})
	mustDo(t, b, "CLIENT", "SETNAME", "beta")
	sub := clientOf(t, srv, redis.Options{}).Subscribe(ctx, "ch", "ch2")
	defer sub.Close()
	if _, err := sub.ReceiveTimeout(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.ReceiveTimeout(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	list := doWith(t, a, "CLIENT", "LIST").(string)
	lines := strings.Split(strings.TrimSuffix(list, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("CLIENT LIST has %d lines, want 3:\n%s", len(lines), list)
	}
	line := regexp.MustCompile(`^id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ fd=\d+ name=\S* age=\d+ idle=\d+ flags=\w+ db=0 sub=\d+ psub=\d+ ssub=0 multi=-1 .* cmd=\S+ user=default redir=-1 resp=2$`)
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Errorf("CLIENT LIST line not in Redis's format: %q", l)
		}
	}
	byName := map[string]string{}
	for _, l := range lines {
		byName[regexp.MustCompile(`name=(\S*)`).FindStringSubmatch(l)[1]] = l
	}
	if l := byName["alpha"]; !strings.Contains(l, "flags=Ne") || !strings.Contains(l, "cmd=client") {
		t.Errorf("CLIENT LIST line of alpha: %s", l)
	}
	if l := byName[""]; !strings.Contains(l, "flags=P") || !strings.Contains(l, "sub=2 psub=0") || !strings.Contains(l, "cmd=subscribe") {
		t.Errorf("CLIENT LIST line of the subscriber: %s", l)
	}
	info := string(mustDo(t, b, "CLIENT", "INFO").(respBulk))
	if !strings.HasPrefix(info, strings.Fields(byName["beta"])[0]+" ") || !strings.Contains(info, "name=beta") || !strings.HasSuffix(info, "\n") {
		t.Errorf("CLIENT INFO = %q", info)
	}
	pubsubList := doWith(t, a, "CLIENT", "LIST", "TYPE", "pubsub").(string)
	if strings.Count(pubsubList, "\n") != 1 || !strings.Contains(pubsubList, "flags=P") {
		t.Errorf("CLIENT LIST TYPE pubsub = %q", pubsubList)
	}
	bid := mustDo(t, b, "CLIENT", "ID").(int64)
	if got := doWith(t, a, "CLIENT", "LIST", "ID", fmt.Sprint(bid)).(string); !strings.Contains(got, "name=beta") || strings.Count(got, "\n") != 1 {
		t.Errorf("CLIENT LIST ID %d = %q", bid, got)
	}
	// KILL with filters: b goes, a stays (SKIPME yes by default).
	steps(t, a, []step{{"CLIENT KILL ID " + fmt.Sprint(bid), 1}, {"CLIENT KILL TYPE pubsub", 1}, {"CLIENT KILL USER nosuch", 0}})
	if v, err := b.do("PING"); err == nil {
		t.Errorf("a killed client still answered %v", v)
	}
	if _, err := sub.ReceiveTimeout(ctx, 5*time.Second); err == nil {
		t.Error("a killed subscriber still open")
	}
	// The old form, and killing itself: closed after the reply.
	c := dialResp(t, srv.Addr().String())
	addr := strings.Fields(string(mustDo(t, c, "CLIENT", "INFO").(respBulk)))[1]
	if got := showReply(mustDo(t, c, "CLIENT", "KILL", strings.TrimPrefix(addr, "addr="))); got != "+OK" {
		t.Errorf("CLIENT KILL of itself = %s", got)
	}
	if v, err := c.do("PING"); err == nil {
		t.Errorf("a client that killed itself still answered %v", v)
	}
	steps(t, a, []step{{"PING", "PONG"}})
}

// TestClientReply: CLIENT REPLY OFF drops replies until ON, SKIP drops
// the next command's only; the commands still run.
func TestClientReply(t *testing.T) {
	e := newEnv(t, nil)
	c := dialResp(t, e.srv.Addr().String())
	for _, cmd := range [][]string{{"CLIENT", "REPLY", "OFF"}, {"SET", "a", "1"}, {"GET", "a"}, {"CLIENT", "REPLY", "SKIP"}, {"CLIENT", "REPLY", "ON"}} {
		if err := c.send(cmd...); err != nil {
			t.Fatal(err)
		}
	}
	if got := mustRead(t, c); got != "+OK" {
		t.Fatalf("first reply after REPLY OFF ... ON = %s, want +OK (of ON)", got)
	}
	for _, cmd := range [][]string{{"CLIENT", "REPLY", "SKIP"}, {"INCR", "a"}, {"GET", "a"}} {
		if err := c.send(cmd...); err != nil {
			t.Fatal(err)
		}
	}
	if got := mustRead(t, c); got != `"2"` {
		t.Fatalf("reply after SKIP, INCR, GET = %s, want \"2\"", got)
	}
}

// TestWaitaof: under everysec and no, WAITAOF answers [1 0] only once
// what the client wrote before it is durable; under always at once.
func TestWaitaof(t *testing.T) {
	for _, policy := range []Fsync{FsyncEverysec, FsyncNo, FsyncAlways} {
		t.Run(fmt.Sprint(policy), func(t *testing.T) {
			db, err := Open(testDir, &Options{FS: vfs.NewMem(), SegmentSize: 1 << 20, AppendFsync: policy})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			srv, err := Listen(db, "127.0.0.1:0", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			c := clientOf(t, srv, redis.Options{})
			steps(t, c, []step{{"SET k v", "OK"}})
			written := db.dur.logged.Load()
			if policy != FsyncAlways && db.dur.durableIndex() >= written {
				t.Logf("already durable before WAITAOF (a background sync ran)")
			}
			steps(t, c, []step{
				{"WAITAOF 1 0 0", []any{1, 0}},
				{"WAITAOF -1 0 0", "ERR:ERR value is out of range, must be positive"},
				{"WAITAOF 0 0 -1", "ERR:ERR timeout is negative"},
				{"WAITAOF x 0 0", "ERR:ERR value is not an integer or out of range"},
			})
			if got := db.dur.durableIndex(); got < written {
				t.Fatalf("WAITAOF answered with transaction %d logged but only %d durable", written, got)
			}
		})
	}
}
