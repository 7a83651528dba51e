// Command walkv is a Redis-compatible key-value server whose every write
// is a transaction in a waldb write-ahead log (package walkv).
//
// Usage:
//
//	walkv [--addr 127.0.0.1:6380] [--dir ./data] [--appendfsync always|everysec|no]
//	      [--snapshot-log-bytes N] [--io-threads N] [cluster flags: see cluster.go]
//
// It prints the address it listens on, serves until SIGINT, SIGTERM or a
// client's SHUTDOWN, then stops accepting, finishes the commands in
// flight and closes the log.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal during shutdown kills the process
	}()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "walkv:", err)
		stop()
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for usage errors, 1 otherwise.
func exitCode(err error) int {
	if isUsage(err) {
		return 2
	}
	return 1
}
