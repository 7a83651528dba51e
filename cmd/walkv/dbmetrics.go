package main

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/waldb/wal/walkv"
)

// dbCollector exports walkv's own figures (walkv.DB.Stats) at each
// scrape, as walkv_*: the command counters and latency histograms are
// kept by walkv (atomic adds on the command path), and read only here.
// Label values are bounded: cmd by the command table, prefix by walkv's
// cap of 128 error prefixes.
type dbCollector struct {
	db atomic.Pointer[walkv.DB] // nil until the DB is open: nothing is exported

	commands, failed, rejected, latency, errors          *prometheus.Desc
	processed, connections, clients, blocked             *prometheus.Desc
	keys, expiring, expired, hits, misses, netIn, netOut *prometheus.Desc
}

func newDBCollector() *dbCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("walkv_"+name, help, labels, nil)
	}
	return &dbCollector{
		commands:    d("commands_total", "Commands run, by command (including those EXEC runs).", "cmd"),
		failed:      d("command_failures_total", "Commands that ran and replied an error, by command.", "cmd"),
		rejected:    d("command_rejections_total", "Commands refused before running (arity, ACL, maxmemory), by command.", "cmd"),
		latency:     d("command_duration_seconds", "Run time of commands outside EXEC, by command; excludes the wait for fsync.", "cmd"),
		errors:      d("error_replies_total", "Error replies sent to clients, by prefix (ERR, WRONGTYPE, ...).", "prefix"),
		processed:   d("commands_processed_total", "Requests received (Redis's total_commands_processed)."),
		connections: d("connections_received_total", "Connections accepted."),
		clients:     d("connected_clients", "Clients connected."),
		blocked:     d("blocked_clients", "Clients blocked in a blocking command."),
		keys:        d("keys", "Keys in the keyspace, by type (string, hash, list, set, zset).", "type"),
		expiring:    d("keys_with_expiry", "Keys with a time to live."),
		expired:     d("expired_keys_total", "Keys removed for having expired."),
		hits:        d("keyspace_hits_total", "Key lookups that found the key."),
		misses:      d("keyspace_misses_total", "Key lookups that did not."),
		netIn:       d("net_input_bytes_total", "Bytes received from clients."),
		netOut:      d("net_output_bytes_total", "Reply bytes queued to clients."),
	}
}

func (c *dbCollector) descs() []*prometheus.Desc {
	return []*prometheus.Desc{c.commands, c.failed, c.rejected, c.latency, c.errors, c.processed, c.connections,
		c.clients, c.blocked, c.keys, c.expiring, c.expired, c.hits, c.misses, c.netIn, c.netOut}
}

// Describe implements prometheus.Collector.
func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs() {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	db := c.db.Load()
	if db == nil {
		return
	}
	st := db.Stats()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	bounds := walkv.CommandLatencyBounds()
	for _, cs := range st.Commands {
		counter(c.commands, cs.Calls, cs.Name)
		counter(c.failed, cs.Failed, cs.Name)
		counter(c.rejected, cs.Rejected, cs.Name)
		buckets := make(map[float64]uint64, len(bounds))
		var n uint64
		for i, b := range bounds {
			n += uint64(cs.Latency[i])
			buckets[b.Seconds()] = n
		}
		n += uint64(cs.Latency[len(bounds)])
		ch <- prometheus.MustNewConstHistogram(c.latency, n, cs.Duration.Seconds(), buckets, cs.Name)
	}
	for prefix, n := range st.Errors {
		counter(c.errors, n, prefix)
	}
	counter(c.processed, st.CommandsProcessed)
	counter(c.connections, st.ConnectionsReceived)
	gauge(c.clients, st.ConnectedClients)
	gauge(c.blocked, st.BlockedClients)
	for typ, n := range st.KeysByType {
		ch <- prometheus.MustNewConstMetric(c.keys, prometheus.GaugeValue, float64(n), typ)
	}
	gauge(c.expiring, st.KeysWithExpiry)
	counter(c.expired, st.ExpiredKeys)
	counter(c.hits, st.KeyspaceHits)
	counter(c.misses, st.KeyspaceMisses)
	counter(c.netIn, st.NetInputBytes)
	counter(c.netOut, st.NetOutputBytes)
}
