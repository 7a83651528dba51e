package walkv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	osexec "os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/waldb/wal/internal/testcert"
	"github.com/waldb/wal/vfs"
)

// tlsServer serves a TLS port with a server certificate from a fresh CA,
// requiring client certificates, and returns the files and the CA.
func tlsServer(t *testing.T, sopts *ServerOptions) (*Server, testcert.Files, *testcert.CA) {
	t.Helper()
	ca, err := testcert.NewCA("walkv test CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("server")
	if err != nil {
		t.Fatal(err)
	}
	files, err := testcert.WriteFiles(t.TempDir(), "server", ca, leaf)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := TLSConfig(files.Cert, files.Key, files.CA, "yes")
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := serveWith(t, "127.0.0.1:0", sopts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.ServeTLS(ln, cfg); err != nil {
		t.Fatal(err)
	}
	return srv, files, ca
}

// clientTLS returns a client configuration trusting ca with a client
// certificate from issuer (none if nil).
func clientTLS(t *testing.T, ca *testcert.CA, issuer *testcert.CA) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	if issuer != nil {
		leaf, err := issuer.Issue("client")
		if err != nil {
			t.Fatal(err)
		}
		cert, err := leaf.TLS()
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

// TestTLSClients: go-redis over TLS with a client certificate and an ACL
// user works; without a certificate, with one from another CA, or in
// plain text, nothing runs.
func TestTLSClients(t *testing.T) {
	srv, _, ca := tlsServer(t, &ServerOptions{RequirePass: "adminpw"})
	addr := srv.TLSAddrs()[0].String()
	admin := clientOf(t, srv, redis.Options{Addr: addr, Password: "adminpw", TLSConfig: clientTLS(t, ca, ca)})
	steps(t, admin, []step{
		{"ACL SETUSER app on >apppw ~app:* +@all -@admin -@dangerous", "OK"},
		{"SET k v", "OK"},
	})
	app := clientOf(t, srv, redis.Options{Addr: addr, Username: "app", Password: "apppw", TLSConfig: clientTLS(t, ca, ca)})
	steps(t, app, []step{{"SET app:1 v", "OK"}, {"GET app:1", "v"}, {"GET k", "ERR:NOPERM"}, {"SHUTDOWN", "ERR:NOPERM"}})
	// Large values cross the relay both ways.
	big := strings.Repeat("z", 4<<20)
	if err := app.Set(context.Background(), "app:big", big, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := app.Get(context.Background(), "app:big").Result(); err != nil || got != big {
		t.Fatalf("GET app:big over TLS: %d bytes, %v", len(got), err)
	}

	other, err := testcert.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]*tls.Config{
		"no client certificate":         clientTLS(t, ca, nil),
		"a certificate from another CA": clientTLS(t, ca, other),
	} {
		c := clientOf(t, srv, redis.Options{Addr: addr, Password: "adminpw", TLSConfig: cfg, DialTimeout: 5 * time.Second})
		if err := c.Ping(context.Background()).Err(); err == nil {
			t.Errorf("%s: PING succeeded", name)
		}
	}
	plain := clientOf(t, srv, redis.Options{Addr: addr, Password: "adminpw", ReadTimeout: 5 * time.Second})
	if err := plain.Ping(context.Background()).Err(); err == nil {
		t.Error("plain text on the TLS port: PING succeeded")
	}
	if got := infoValue(t, admin, "connected_clients"); got != "2" {
		t.Errorf("connected_clients = %s, want the 2 TLS clients that authenticated", got)
	}
}

// TestTLSRedisCLI: redis-cli --tls with a client certificate and
// --user/--pass works against walkv.
func TestTLSRedisCLI(t *testing.T) {
	cli, err := osexec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed")
	}
	if out, _ := osexec.Command(cli, "--help").CombinedOutput(); !strings.Contains(string(out), "--tls") {
		t.Skip("redis-cli built without TLS")
	}
	srv, files, ca := tlsServer(t, &ServerOptions{RequirePass: "adminpw"})
	leaf, err := ca.Issue("redis-cli")
	if err != nil {
		t.Fatal(err)
	}
	cf, err := testcert.WriteFiles(t.TempDir(), "cli", ca, leaf)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(srv.TLSAddrs()[0].String())
	run := func(args ...string) string {
		base := []string{"-h", "127.0.0.1", "-p", port, "--tls", "--cacert", files.CA, "--cert", cf.Cert, "--key", cf.Key, "--no-auth-warning"}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := osexec.CommandContext(ctx, cli, append(base, args...)...).CombinedOutput()
		if err != nil {
			t.Logf("redis-cli %q: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run("PING"); !strings.Contains(got, "NOAUTH") {
		t.Errorf("redis-cli without password: %q, want NOAUTH", got)
	}
	if got := run("--user", "default", "--pass", "adminpw", "ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "+@all", "-@admin", "-@dangerous"); got != "OK" {
		t.Fatalf("ACL SETUSER: %q", got)
	}
	if got := run("--user", "app", "--pass", "apppw", "SET", "app:x", "1"); got != "OK" {
		t.Errorf("redis-cli --user app SET: %q", got)
	}
	if got := run("--user", "app", "--pass", "apppw", "GET", "app:x"); got != "1" {
		t.Errorf("redis-cli --user app GET: %q", got)
	}
	if got := run("--user", "app", "--pass", "apppw", "FLUSHALL"); !strings.Contains(got, "NOPERM") {
		t.Errorf("redis-cli --user app FLUSHALL: %q, want NOPERM", got)
	}
	if got := run("--user", "app", "--pass", "wrong", "GET", "app:x"); !strings.Contains(got, "WRONGPASS") && !strings.Contains(got, "NOAUTH") {
		t.Errorf("redis-cli with a wrong password: %q", got)
	}
}

// TestTLSSlowReader: a TLS client that pipelines large GETs and never
// reads is closed by its output limit like a plain one, and its relay,
// blocked writing to it, ends: Server.Close returns although the client
// still reads nothing.
func TestTLSSlowReader(t *testing.T) {
	ca, err := testcert.NewCA("walkv test CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("server")
	if err != nil {
		t.Fatal(err)
	}
	files, err := testcert.WriteFiles(t.TempDir(), "server", ca, leaf)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := TLSConfig(files.Cert, files.Key, files.CA, "yes")
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(testDir, &Options{FS: vfs.NewMem(), SegmentSize: 1 << 20, AppendFsync: FsyncNo})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv, err := Listen(db, "127.0.0.1:0", &ServerOptions{OutputLimitNormal: OutputLimit{Hard: 8 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.ServeTLS(ln, cfg); err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr().String(), MaxRetries: -1})
	defer c.Close()
	if err := c.Set(context.Background(), "big", strings.Repeat("x", 1<<20), 0).Err(); err != nil {
		t.Fatal(err)
	}
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error { // before connect: a small window
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10) })
	}}
	raw, err := d.Dial("tcp", addr) // the kernel takes little of what the relay writes
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(raw, clientTLS(t, ca, ca))
	defer tc.Close()
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	go tc.Write([]byte(strings.Repeat("*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n", 200)))
	deadline := time.Now().Add(20 * time.Second)
	for infoValue(t, c, "client_output_buffer_limit_disconnections") != "1" {
		if time.Now().After(deadline) {
			t.Fatal("the TLS slow reader was not disconnected")
		}
		time.Sleep(10 * time.Millisecond) // polling INFO with a deadline
	}
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Server.Close: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Server.Close hangs on the relay of a TLS client that does not read")
	}
}
