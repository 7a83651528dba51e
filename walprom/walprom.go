// Package walprom exports a waldb log's events as Prometheus metrics:
//
//	m := walprom.New("myapp", nil)
//	prometheus.MustRegister(m)
//	l, err := wal.Open(dir, &wal.Options{EventListener: m.Listener()})
//
// It is a package of its own so that the wal package depends on nothing
// but the standard library. The metrics, each prefixed with the namespace
// given to New and "wal_":
//
//	write_duration_seconds     histogram  one write syscall of buffered entries
//	fsync_duration_seconds     histogram  one fdatasync of the tail segment
//	write_bytes_total          counter    bytes written (records, headers, markers)
//	entries_written_total      counter    entries written
//	group_commit_entries       histogram  entries per write (group-commit batch size)
//	fsync_stalls_total         counter    reports of an fdatasync running past Options.SlowSyncThreshold
//	fsync_stalled              gauge      1 while a reported stall lasts, else 0
//	segments_sealed_total      counter    rotations
//	truncations_total          counter    by op (front, back, reset) and result (ok, error)
//	recoveries_total           counter    Opens, by recovery state (new, clean, torn-tail, ...)
//	write_errors_total         counter    failed writes
//	fsync_errors_total         counter    failed fdatasyncs
//	failures_total             counter    times a log went fail-stop (ErrFailed)
//
// One Metrics may serve several logs; their figures add up.
package walprom

import (
	"github.com/prometheus/client_golang/prometheus"

	wal "github.com/waldb/wal"
)

// Metrics is a prometheus.Collector fed by the EventListener Listener
// returns.
type Metrics struct {
	writeDuration prometheus.Histogram
	syncDuration  prometheus.Histogram
	writeBytes    prometheus.Counter
	entries       prometheus.Counter
	batchEntries  prometheus.Histogram
	stalls        prometheus.Counter
	stalled       prometheus.Gauge
	sealed        prometheus.Counter
	truncations   *prometheus.CounterVec
	recoveries    *prometheus.CounterVec
	writeErrors   prometheus.Counter
	syncErrors    prometheus.Counter
	failures      prometheus.Counter
}

// New makes the metrics, named namespace_wal_*, with constLabels (may be
// nil) on every one. Register the result to export them.
func New(namespace string, constLabels prometheus.Labels) *Metrics {
	o := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: namespace, Subsystem: "wal", Name: name, Help: help, ConstLabels: constLabels}
	}
	hist := func(name, help string, buckets []float64) prometheus.Histogram {
		op := o(name, help)
		return prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: op.Namespace, Subsystem: op.Subsystem,
			Name: op.Name, Help: op.Help, ConstLabels: op.ConstLabels, Buckets: buckets})
	}
	// 10 µs to about 10 s, as etcd's wal_fsync_duration_seconds (1 ms to 8 s) but finer at the fast end.
	latency := prometheus.ExponentialBuckets(10e-6, 2.5, 16)
	return &Metrics{
		writeDuration: hist("write_duration_seconds", "Duration of one write of buffered entries to the tail segment.", latency),
		syncDuration:  hist("fsync_duration_seconds", "Duration of one fdatasync of the tail segment.", latency),
		writeBytes:    prometheus.NewCounter(prometheus.CounterOpts(o("write_bytes_total", "Bytes written to segments (records, headers and markers)."))),
		entries:       prometheus.NewCounter(prometheus.CounterOpts(o("entries_written_total", "Entries written."))),
		batchEntries:  hist("group_commit_entries", "Entries per write: the size of each group commit.", prometheus.ExponentialBuckets(1, 2, 14)),
		stalls:        prometheus.NewCounter(prometheus.CounterOpts(o("fsync_stalls_total", "Reports of an fdatasync still running past the slow-sync threshold."))),
		stalled:       prometheus.NewGauge(prometheus.GaugeOpts(o("fsync_stalled", "1 while a reported fdatasync stall lasts, else 0."))),
		sealed:        prometheus.NewCounter(prometheus.CounterOpts(o("segments_sealed_total", "Segments sealed (rotations)."))),
		truncations:   prometheus.NewCounterVec(prometheus.CounterOpts(o("truncations_total", "Truncations by op (front, back, reset) and result (ok, error).")), []string{"op", "result"}),
		recoveries:    prometheus.NewCounterVec(prometheus.CounterOpts(o("recoveries_total", "Opens by recovery state.")), []string{"state"}),
		writeErrors:   prometheus.NewCounter(prometheus.CounterOpts(o("write_errors_total", "Failed writes to segments."))),
		syncErrors:    prometheus.NewCounter(prometheus.CounterOpts(o("fsync_errors_total", "Failed fdatasyncs."))),
		failures:      prometheus.NewCounter(prometheus.CounterOpts(o("failures_total", "Times a log went fail-stop (ErrFailed)."))),
	}
}

// Listener returns the EventListener to set as Options.EventListener. Its
// callbacks allocate nothing per write or fdatasync.
func (m *Metrics) Listener() *wal.EventListener {
	return &wal.EventListener{
		WriteEnd: func(i wal.WriteInfo) {
			if i.Err != nil {
				m.writeErrors.Inc()
				return
			}
			m.writeDuration.Observe(i.Duration.Seconds())
			m.writeBytes.Add(float64(i.Bytes))
			m.entries.Add(float64(i.Entries))
			if i.Entries > 0 {
				m.batchEntries.Observe(float64(i.Entries))
			}
		},
		SyncEnd: func(i wal.SyncInfo) {
			m.stalled.Set(0)
			if i.Err != nil {
				m.syncErrors.Inc()
				return
			}
			m.syncDuration.Observe(i.Duration.Seconds())
		},
		SyncStall: func(wal.StallInfo) {
			m.stalls.Inc()
			m.stalled.Set(1)
		},
		SegmentSealed: func(wal.SegmentInfo) { m.sealed.Inc() },
		Truncated: func(i wal.TruncateInfo) {
			result := "ok"
			if i.Err != nil {
				result = "error"
			}
			m.truncations.WithLabelValues(i.Op, result).Inc()
		},
		Recovered: func(r wal.Report) { m.recoveries.WithLabelValues(r.State.String()).Inc() },
		Failed:    func(error) { m.failures.Inc() },
	}
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.writeDuration, m.syncDuration, m.writeBytes, m.entries, m.batchEntries,
		m.stalls, m.stalled, m.sealed, m.truncations, m.recoveries, m.writeErrors, m.syncErrors, m.failures}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}
