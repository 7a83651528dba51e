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

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"
)

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
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
	return fams
}

// labeled returns the metric of family name whose label has value, or
// fails.
func labeled(t *testing.T, fams map[string]*dto.MetricFamily, name, label, value string) *dto.Metric {
	t.Helper()
	for _, m := range fams[name].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label && lp.GetValue() == value {
				return m
			}
		}
	}
	t.Fatalf("no %s{%s=%q} in /metrics", name, label, value)
	return nil
}

// checkCommandMetrics checks walkv's own metrics after sets SETs, gets
// GETs and one LPUSH refused with WRONGTYPE.
func checkCommandMetrics(t *testing.T, fams map[string]*dto.MetricFamily, sets, gets int) {
	t.Helper()
	for _, tt := range []struct {
		name, cmd string
		want      float64
	}{
		{"walkv_commands_total", "set", float64(sets)}, {"walkv_commands_total", "get", float64(gets)},
		{"walkv_commands_total", "lpush", 1}, {"walkv_command_failures_total", "lpush", 1},
		{"walkv_command_failures_total", "set", 0}, {"walkv_command_rejections_total", "get", 0},
	} {
		if got := labeled(t, fams, tt.name, "cmd", tt.cmd).GetCounter().GetValue(); got != tt.want {
			t.Errorf("%s{cmd=%q} = %v, want %v", tt.name, tt.cmd, got, tt.want)
		}
	}
	h := labeled(t, fams, "walkv_command_duration_seconds", "cmd", "set").GetHistogram()
	if h.GetSampleCount() != uint64(sets) || h.GetSampleSum() <= 0 {
		t.Errorf("walkv_command_duration_seconds{cmd=\"set\"}: count %d sum %v, want count %d", h.GetSampleCount(), h.GetSampleSum(), sets)
	}
	if got := labeled(t, fams, "walkv_error_replies_total", "prefix", "WRONGTYPE").GetCounter().GetValue(); got != 1 {
		t.Errorf("walkv_error_replies_total{prefix=\"WRONGTYPE\"} = %v, want 1", got)
	}
	gauge := func(name string) float64 {
		if fams[name] == nil {
			t.Fatalf("no %s in /metrics", name)
		}
		return fams[name].GetMetric()[0].GetGauge().GetValue()
	}
	if strs := labeled(t, fams, "walkv_keys", "type", "string").GetGauge().GetValue(); strs != float64(sets) {
		t.Errorf("walkv_keys{type=\"string\"} = %v, want %d", strs, sets)
	}
	if labeled(t, fams, "walkv_keys", "type", "list").GetGauge().GetValue() != 0 || gauge("walkv_connected_clients") < 1 || gauge("walkv_blocked_clients") != 0 {
		t.Errorf("connected clients %v, blocked clients %v", gauge("walkv_connected_clients"), gauge("walkv_blocked_clients"))
	}
	if fams["walkv_net_input_bytes_total"].GetMetric()[0].GetCounter().GetValue() == 0 {
		t.Error("walkv_net_input_bytes_total is 0")
	}
}

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
	const gets = 7
	for range gets {
		if err := c.Get(ctx, "k0").Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.LPush(ctx, "k1", "x").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
		t.Fatalf("LPUSH on a string: %v", err)
	}
	fams := scrape(t, url)
	checkCommandMetrics(t, fams, n, gets)
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
