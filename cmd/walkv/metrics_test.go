package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"
)

// TestMetricsEndpoint: with --metrics-addr, /metrics serves the log's
// figures in Prometheus's text format, and they follow the writes.
func TestMetricsEndpoint(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--dir", t.TempDir()}, pw, io.Discard)
		pw.Close()
	}()
	br := bufio.NewReader(pr)
	addr := listenAddr(t, br)
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, "metrics on http://") {
		t.Fatalf("metrics line %q, %v", line, err)
	}
	url := strings.TrimSpace(line[strings.Index(line, "http://"):])
	go io.Copy(io.Discard, br)

	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	const n = 20
	for i := range n {
		if err := c.Set(ctx, fmt.Sprint("k", i), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	entries := fams["walkv_wal_entries_written_total"]
	if entries == nil || entries.GetMetric()[0].GetCounter().GetValue() < n {
		t.Fatalf("walkv_wal_entries_written_total = %v after %d SETs", entries, n)
	}
	fsyncs := fams["walkv_wal_fsync_duration_seconds"]
	if fsyncs == nil || fsyncs.GetMetric()[0].GetHistogram().GetSampleCount() == 0 {
		t.Fatalf("walkv_wal_fsync_duration_seconds = %v under appendfsync always", fsyncs)
	}
	if fams["go_goroutines"] == nil || fams["walkv_wal_recoveries_total"] == nil {
		t.Fatal("runtime or recovery metrics missing")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return")
	}
}
