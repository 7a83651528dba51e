package walkv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	osexec "os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/waldb/wal/internal/testcert"
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
