package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/waldb/wal/walkv"
)

// childEnv, when set, makes the test binary run the server (see TestMain):
// its value is the argument list, separated by newlines.
const childEnv = "WALKV_TEST_SERVER_ARGS"

// TestMain re-executes the test binary as a walkv server for the crash
// test: with childEnv set it runs run() and exits.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(childEnv); ok {
		err := run(context.Background(), strings.Split(args, "\n"), os.Stdout, os.Stderr)
		if err != nil {
			os.Stderr.WriteString("walkv child: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args  []string
		want  options
		usage bool
	}{
		{nil, options{addr: "127.0.0.1:6380", dir: "./data", fsync: walkv.FsyncAlways, snapshotBytes: walkv.DefaultSnapshotLogBytes, ioThreads: walkv.DefaultEventLoops()}, false},
		{[]string{"--addr", "127.0.0.1:7000", "--dir", "/x", "--appendfsync", "everysec", "--snapshot-log-bytes", "-1", "--io-threads", "3"},
			options{addr: "127.0.0.1:7000", dir: "/x", fsync: walkv.FsyncEverysec, snapshotBytes: -1, ioThreads: 3}, false},
		{[]string{"-appendfsync=no"}, options{addr: "127.0.0.1:6380", dir: "./data", fsync: walkv.FsyncNo, snapshotBytes: walkv.DefaultSnapshotLogBytes, ioThreads: walkv.DefaultEventLoops()}, false},
		{[]string{"--io-threads", "0"}, options{}, true},
		{[]string{"--appendfsync", "sometimes"}, options{}, true},
		{[]string{"--nope"}, options{}, true},
		{[]string{"extra"}, options{}, true},
	}
	for _, tt := range tests {
		got, err := parseFlags(tt.args, io.Discard)
		if tt.usage {
			if !isUsage(err) || exitCode(err) != 2 {
				t.Errorf("parseFlags(%q) = %v, want a usage error", tt.args, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseFlags(%q) = %+v, %v; want %+v", tt.args, got, err, tt.want)
		}
	}
	var out strings.Builder
	if _, err := parseFlags([]string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "-appendfsync") {
		t.Errorf("-h: %v, output %q", err, out.String())
	}
	if exitCode(errors.New("x")) != 1 {
		t.Error("exit code of a runtime error is not 1")
	}
}

// listenAddr reads the server's "listening on ADDR" line.
func listenAddr(t *testing.T, r io.Reader) string {
	t.Helper()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the listen line: %v", err)
	}
	f := strings.Fields(line)
	if len(f) < 4 || f[1] != "listening" {
		t.Fatalf("unexpected first line %q", line)
	}
	return f[3]
}

// TestRunServesUntilCancelled: run serves clients, stops on context
// cancellation (as on SIGINT) and on SHUTDOWN, and keeps the data.
func TestRunServesUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	for round, stop := range []string{"cancel", "shutdown"} {
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--dir", dir}, pw, io.Discard)
			pw.Close()
		}()
		addr := listenAddr(t, pr)
		go io.Copy(io.Discard, pr)
		c := redis.NewClient(&redis.Options{Addr: addr})
		if round == 0 {
			if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
		} else if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
			t.Fatalf("after restart GET k = %q, %v", v, err)
		}
		if stop == "cancel" {
			cancel()
		} else {
			c.Do(ctx, "SHUTDOWN") // no reply: the connection closes
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("run did not return after %s", stop)
		}
		c.Close()
		cancel()
	}
}

func TestRunErrors(t *testing.T) {
	ctx := context.Background()
	if err := run(ctx, []string{"--appendfsync", "x"}, io.Discard, io.Discard); !isUsage(err) {
		t.Errorf("bad flag: %v", err)
	}
	if err := run(ctx, []string{"--addr", "256.0.0.1:1", "--dir", t.TempDir()}, io.Discard, io.Discard); err == nil {
		t.Error("run with an unusable address succeeded")
	}
	if err := run(ctx, []string{"-h"}, io.Discard, io.Discard); err != nil {
		t.Errorf("-h: %v", err)
	}
}
