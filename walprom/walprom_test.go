package walprom_test

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	wal "github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/walprom"
)

// scrape serves reg over HTTP as Prometheus would scrape it and parses
// the text with Prometheus's parser.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	for _, m := range f.GetMetric() {
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return 0
}

// TestMetrics drives a log and checks the scraped figures.
func TestMetrics(t *testing.T) {
	m := walprom.New("test", prometheus.Labels{"log": "a"})
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	l, err := wal.Open("/log", &wal.Options{FS: vfs.NewMem(), SegmentSize: 2048, EventListener: m.Listener()})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	data := bytes.Repeat([]byte("x"), 50)
	for range n {
		if _, err := l.Append(data); err != nil {
			t.Fatal(err)
		}
	}
	var b wal.Batch
	for range 10 {
		b.Append(data)
	}
	if _, err := l.AppendBatch(&b); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateFront(20); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateBack(5); err == nil {
		t.Fatal("TruncateBack below the first index succeeded")
	}
	sealed := len(l.Segments()) - 1
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, reg)
	if got := value(t, fams, "test_wal_entries_written_total", "log", "a"); got != n+10 {
		t.Errorf("entries_written_total %v, want %d", got, n+10)
	}
	if got := value(t, fams, "test_wal_write_bytes_total"); got < (n+10)*(16+50) {
		t.Errorf("write_bytes_total %v", got)
	}
	// One writer: every Append is a group commit of one, the batch one of 10.
	if got := value(t, fams, "test_wal_group_commit_entries"); got != n+1 {
		t.Errorf("group_commit_entries count %v, want %d", got, n+1)
	}
	h := fams["test_wal_group_commit_entries"].GetMetric()[0].GetHistogram()
	if h.GetSampleSum() != n+10 {
		t.Errorf("group_commit_entries sum %v, want %d", h.GetSampleSum(), n+10)
	}
	if got := value(t, fams, "test_wal_fsync_duration_seconds"); got < n+1 {
		t.Errorf("fsync_duration_seconds count %v, want at least %d", got, n+1)
	}
	if got := value(t, fams, "test_wal_write_duration_seconds"); got < n+1 {
		t.Errorf("write_duration_seconds count %v", got)
	}
	if got := value(t, fams, "test_wal_segments_sealed_total"); got != float64(sealed) || sealed < 2 {
		t.Errorf("segments_sealed_total %v, %d sealed segments", got, sealed)
	}
	if got := value(t, fams, "test_wal_truncations_total", "op", "front", "result", "ok"); got != 1 {
		t.Errorf("front truncations %v", got)
	}
	if got := value(t, fams, "test_wal_truncations_total", "op", "back", "result", "error"); got != 1 {
		t.Errorf("failed back truncations %v", got)
	}
	if got := value(t, fams, "test_wal_recoveries_total", "state", "new"); got != 1 {
		t.Errorf("recoveries{new} %v", got)
	}
	if got := value(t, fams, "test_wal_failures_total"); got != 0 {
		t.Errorf("failures_total %v", got)
	}
}
