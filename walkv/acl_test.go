package walkv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/waldb/wal/vfs"
)

// serveWith opens a DB on an in-memory filesystem and serves it on
// addr with sopts; the server and DB close at cleanup.
func serveWith(t testing.TB, addr string, sopts *ServerOptions) (*Server, *DB) {
	t.Helper()
	db, err := Open(testDir, &Options{FS: vfs.NewMem(), SegmentSize: 1 << 20, AppendFsync: FsyncNo})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Listen(db, addr, sopts)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Server.Close: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("DB.Close: %v", err)
		}
	})
	return srv, db
}

// clientOf returns a go-redis client of srv with the given options
// (address filled in; RESP2 unless o.Protocol says otherwise); closed at
// cleanup.
func clientOf(t testing.TB, srv *Server, o redis.Options) *redis.Client {
	if o.Addr == "" {
		o.Addr = srv.Addr().String()
	}
	if o.Protocol == 0 {
		o.Protocol = 2
	}
	o.MaxRetries, o.PoolSize = -1, 1
	c := redis.NewClient(&o)
	t.Cleanup(func() { c.Close() })
	return c
}

// steps runs steps on c.
func steps(t *testing.T, c *redis.Client, ss []step) {
	t.Helper()
	for i, s := range ss {
		got := doWith(t, c, words(s.cmd)...)
		if !matchReply(got, s.want) {
			t.Fatalf("step %d %q: got %#v, want %#v", i, s.cmd, got, s.want)
		}
	}
}

// infoValue returns the value of field in INFO's reply.
func infoValue(t *testing.T, c *redis.Client, field string) string {
	t.Helper()
	info, err := c.Info(context.Background(), "everything").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	t.Fatalf("INFO lacks %s", field)
	return ""
}

// TestRequirePassAttack: with requirepass set, a client without the
// password can run nothing but AUTH, HELLO and QUIT, wrong passwords are
// refused (AUTH in both forms, HELLO AUTH), counted and logged.
func TestRequirePassAttack(t *testing.T) {
	srv, _ := serveWith(t, "127.0.0.1:0", &ServerOptions{RequirePass: "s3cret"})
	c := clientOf(t, srv, redis.Options{})
	steps(t, c, []step{
		{"PING", "ERR:NOAUTH Authentication required."},
		{"SET k v", "ERR:NOAUTH Authentication required."},
		{"SHUTDOWN", "ERR:NOAUTH Authentication required."},
		{"CONFIG SET appendfsync no", "ERR:NOAUTH Authentication required."},
		{"DEBUG SLEEP 0", "ERR:ERR DEBUG command not allowed."}, // protected: refused before authentication
		{"MULTI", "ERR:NOAUTH Authentication required."},
		{"NOSUCHCMD", "ERR:ERR unknown command"},
		{"HELLO 2", "ERR:NOAUTH HELLO must be called with the client already authenticated"},
		{"AUTH wrong", "ERR:WRONGPASS invalid username-password pair or user is disabled."},
		{"AUTH default wrong", "ERR:WRONGPASS invalid username-password pair or user is disabled."},
		{"HELLO 2 AUTH default wrongpass", "ERR:WRONGPASS invalid username-password pair or user is disabled."},
		{"AUTH nosuchuser s3cret", "ERR:WRONGPASS"},
		{"GET k", "ERR:NOAUTH"},
		{"AUTH s3cret", "OK"},
		{"SET k v", "OK"},
		{"ACL WHOAMI", "default"},
	})
	if got := infoValue(t, c, "acl_access_denied_auth"); got != "4" {
		t.Errorf("acl_access_denied_auth = %s, want 4", got)
	}
	log := doWith(t, c, "ACL", "LOG").([]any)
	if len(log) == 0 || !strings.Contains(strings.Join(anyStrings(log[0]), " "), "reason auth") {
		t.Errorf("ACL LOG = %v, want an auth entry first", log)
	}
	// HELLO with the right password authenticates too; go-redis with a
	// password works (it falls back to AUTH after HELLO 3's NOPROTO).
	c2 := clientOf(t, srv, redis.Options{})
	steps(t, c2, []step{{"HELLO 2 AUTH default s3cret", "~"}, {"GET k", "v"}})
	c3 := clientOf(t, srv, redis.Options{Password: "s3cret"})
	steps(t, c3, []step{{"GET k", "v"}})
	c4 := clientOf(t, srv, redis.Options{Password: "nope"})
	if err := c4.Ping(context.Background()).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Errorf("go-redis with a wrong password: %v, want WRONGPASS", err)
	}
	// Passwords are stored as SHA-256 digests, never in clear.
	acl := doWith(t, c, "ACL", "LIST").([]any)
	if s := strings.Join(anyStrings(acl), "\n"); strings.Contains(s, "s3cret") ||
		!strings.Contains(s, "#"+hexString(sumOf("s3cret"))) {
		t.Errorf("ACL LIST = %q: want the digest, not the password", s)
	}
	// CONFIG SET requirepass: connections already authenticated stay so;
	// new ones need the new password.
	steps(t, c, []step{{"CONFIG SET requirepass other", "OK"}, {"GET k", "v"}})
	c5 := clientOf(t, srv, redis.Options{})
	steps(t, c5, []step{{"GET k", "ERR:NOAUTH"}, {"AUTH s3cret", "ERR:WRONGPASS"}, {"AUTH other", "OK"}, {"GET k", "v"}})
	steps(t, c, []step{{"CONFIG SET requirepass ␣", "OK"}}) // a space: any non-empty value is a password
	steps(t, c, []step{{"CONFIG GET requirepass", []any{"requirepass", "#" + hexString(sumOf(" "))}}})
}

func sumOf(s string) []byte { h := hashPassword(s); return h[:] }

func anyStrings(v any) []string {
	var out []string
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			out = append(out, anyStrings(e)...)
		}
	default:
		out = append(out, strings.TrimSpace(strings.ReplaceAll(toString(v), "\n", " ")))
	}
	return out
}

func toString(v any) string { return fmt.Sprint(v) }

// TestACLApplicationUser: an application user made as docs/security.md
// says cannot run admin or dangerous commands nor touch keys outside its
// patterns, in or out of MULTI; refusals are counted and logged.
func TestACLApplicationUser(t *testing.T) {
	srv, _ := serveWith(t, "127.0.0.1:0", &ServerOptions{RequirePass: "adminpw", EnableDebugCommand: "yes"})
	admin := clientOf(t, srv, redis.Options{Password: "adminpw"})
	steps(t, admin, []step{
		{"ACL SETUSER app on >apppw ~app:* %R~shared:* +@all -@admin -@dangerous", "OK"},
		{"SET shared:cfg 1", "OK"},
		{"ACL SETUSER nosuch +nosuchcmd", "ERR:ERR Error in ACL SETUSER modifier '+nosuchcmd'"},
		{"ACL SETUSER bad on >x ~* +@nosuchcat", "ERR:ERR Error in ACL SETUSER modifier"},
	})
	app := clientOf(t, srv, redis.Options{Username: "app", Password: "apppw"})
	denied := func(cmd string) step {
		return step{cmd, "ERR:NOPERM this user has no permissions to run the '" + strings.ToLower(strings.Fields(cmd)[0]) + "' command"}
	}
	steps(t, app, []step{
		{"ACL WHOAMI", "app"},
		{"SET app:1 v", "OK"},
		{"GET app:1", "v"},
		{"MSET app:2 a app:3 b", "OK"},
		{"GET shared:cfg", "1"},
		denied("SHUTDOWN"),
		denied("CONFIG SET appendfsync no"),
		denied("CONFIG GET *"),
		denied("DEBUG SLEEP 0"),
		denied("FLUSHALL"),
		denied("FLUSHDB"),
		denied("CLUSTER JOIN x y z"),
		denied("KEYS *"),
		denied("ACL SETUSER app +@all"),
		denied("ACL LIST"),
		denied("SAVE"),
		{"SET other v", "ERR:NOPERM this user has no permissions to access one of the keys used as arguments"},
		{"GET other", "ERR:NOPERM"},
		{"MSET app:4 x other y", "ERR:NOPERM"},
		{"DEL app:1 other", "ERR:NOPERM"},
		{"SET shared:cfg 2", "ERR:NOPERM"}, // read-only pattern
		{"HSET app:h f v", 1},
		{"MULTI", "OK"},
		{"SET app:5 x", "QUEUED"},
		{"SET other y", "ERR:NOPERM"},
		{"EXEC", "ERR:EXECABORT"},
		{"MULTI", "OK"},
		{"FLUSHALL", "ERR:NOPERM"},
		{"EXEC", "ERR:EXECABORT"},
		{"GET app:5", nil},
		{"PING", "PONG"},
	})
	steps(t, admin, []step{{"GET other", nil}, {"GET shared:cfg", "1"}, {"EXISTS app:4", 0}})
	if got := infoValue(t, admin, "acl_access_denied_cmd"); got < "1" {
		t.Errorf("acl_access_denied_cmd = %s", got)
	}
	if got := infoValue(t, admin, "acl_access_denied_key"); got < "1" {
		t.Errorf("acl_access_denied_key = %s", got)
	}
	log := strings.Join(anyStrings(doWith(t, admin, "ACL", "LOG")), " ")
	for _, w := range []string{"reason command", "object shutdown", "reason key", "object other", "username app", "context multi"} {
		if !strings.Contains(log, w) {
			t.Errorf("ACL LOG lacks %q: %s", w, log)
		}
	}
	steps(t, admin, []step{
		{"ACL GETUSER app", []any{"flags", []any{"on"}, "passwords", []any{hexString(sumOf("apppw"))},
			"commands", "+@all -@admin -@dangerous", "keys", "~app:* %R~shared:*", "channels", "&*", "selectors", []any{}}},
		{"ACL USERS", []any{"app", "default"}},
		{"ACL LOG RESET", "OK"},
		{"ACL LOG", []any{}},
		{"ACL DELUSER app default", "ERR:ERR The 'default' user cannot be removed"},
		{"ACL DELUSER app nosuch", 1},
	})
	// A connection authenticated as a deleted user is closed.
	if err := app.Do(context.Background(), "GET", "app:2").Err(); err == nil || errors.Is(err, redis.Nil) {
		t.Errorf("a deleted user's connection ran a command: %v", err)
	}
	// A user that is off cannot authenticate.
	steps(t, admin, []step{{"ACL SETUSER ro off >ropw ~* +@read", "OK"}})
	ro := clientOf(t, srv, redis.Options{})
	steps(t, ro, []step{{"AUTH ro ropw", "ERR:WRONGPASS"}})
	steps(t, admin, []step{{"ACL SETUSER ro on", "OK"}})
	steps(t, ro, []step{{"AUTH ro ropw", "OK"}, {"GET app:2", "a"}, {"SET app:2 b", "ERR:NOPERM"}, {"ACL WHOAMI", "ERR:NOPERM"}}) // @slow, not @read, as in Redis
}

// TestACLFile: users come from --aclfile at start; a bad file refuses to
// start.
func TestACLFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.acl")
	file := "# users\nuser default on #" + hexString(sumOf("root")) + " ~* &* +@all\n\nuser app on >apppw ~app:* +@all -@admin -@dangerous\n"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, _ := serveWith(t, "127.0.0.1:0", &ServerOptions{ACLFile: path, EnableDebugCommand: "yes"})
	anon := clientOf(t, srv, redis.Options{})
	steps(t, anon, []step{{"GET x", "ERR:NOAUTH"}, {"AUTH root", "OK"}, {"ACL USERS", []any{"app", "default"}}})
	app := clientOf(t, srv, redis.Options{Username: "app", Password: "apppw"})
	steps(t, app, []step{{"SET app:x 1", "OK"}, {"SET x 1", "ERR:NOPERM"}, {"DEBUG SLEEP 0", "ERR:NOPERM"}})
	// ACL LOAD rereads it.
	if err := os.WriteFile(path, []byte(file+"user extra on nopass +ping\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	steps(t, anon, []step{{"ACL LOAD", "OK"}, {"ACL USERS", []any{"app", "default", "extra"}}})

	if err := os.WriteFile(path, []byte("user app on +nosuchcommand\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(testDir, &Options{FS: vfs.NewMem(), SegmentSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if srv, err := Listen(db, "127.0.0.1:0", &ServerOptions{ACLFile: path}); !errors.Is(err, ErrInvalidOption) {
		if srv != nil {
			srv.Close()
		}
		t.Fatalf("Listen with a bad ACL file: %v, want ErrInvalidOption", err)
	}
}

// TestCategories: categories derive from flags, so a command registered
// without any ACL information (as other files add them) gets sensible
// ones, and the admin and dangerous commands are those an application
// user must not run.
func TestCategories(t *testing.T) {
	tests := []struct {
		cmd        string
		want, lack aclCat
	}{
		{"get", catRead | catString | catFast, catWrite | catAdmin | catDangerous},
		{"set", catWrite | catString | catSlow, catRead | catAdmin | catDangerous},
		{"hset", catWrite | catHash | catFast, catDangerous},
		{"flushall", catWrite | catKeyspace | catDangerous, catAdmin},
		{"keys", catRead | catDangerous, catAdmin},
		{"shutdown", catAdmin | catDangerous, 0},
		{"config", catAdmin | catDangerous, 0},
		{"debug", catAdmin | catDangerous, 0},
		{"cluster", catAdmin | catDangerous, 0},
		{"acl", catAdmin | catDangerous, 0},
		{"client", catConnection, catAdmin | catDangerous},
		{"multi", catTransaction, catAdmin},
		{"ping", catConnection | catFast, catAdmin},
	}
	for _, tt := range tests {
		got := commands[tt.cmd].categories()
		if got&tt.want != tt.want || got&tt.lack != 0 {
			t.Errorf("%s: categories %b, want %b and none of %b", tt.cmd, got, tt.want, tt.lack)
		}
	}
	// A command another file might add, with flags only.
	c := &command{name: "lpush", flags: flagWrite | flagFast, first: 1, last: 1, step: 1}
	if got := c.categories(); got != catWrite|catFast|catList {
		t.Errorf("lpush: %b", got)
	}
	c = &command{name: "walkv-new-admin", flags: flagAdmin}
	if got := c.categories(); got&(catAdmin|catDangerous) != catAdmin|catDangerous {
		t.Errorf("a new admin command is not @admin @dangerous: %b", got)
	}
}

func TestKeyPositions(t *testing.T) {
	args := func(s string) [][]byte {
		var out [][]byte
		for _, w := range strings.Fields(s) {
			out = append(out, []byte(w))
		}
		return out
	}
	tests := []struct {
		cmd, args string
		want      []int
	}{
		{"get", "GET k", []int{1}},
		{"mset", "MSET a 1 b 2", []int{1, 3}},
		{"del", "DEL a b c", []int{1, 2, 3}},
		{"hset", "HSET h f v g w", []int{1}},
		{"ping", "PING", nil},
	}
	for _, tt := range tests {
		var got []int
		commands[tt.cmd].keyPositions(args(tt.args), func(i int) bool { got = append(got, i); return true })
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: %v, want %v", tt.args, got, tt.want)
		}
	}
}
