package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/waldb/wal"
	"github.com/waldb/wal/walkv"
	"github.com/waldb/wal/walprom"
)

// metricsServer serves Prometheus metrics at /metrics (--metrics-addr):
// the log's (package walprom, walkv_wal_*), walkv's own (dbCollector:
// commands, latencies, errors, clients, keys) and the Go runtime's and
// the process's.
type metricsServer struct {
	ln     net.Listener
	srv    *http.Server
	events *wal.EventListener // for walkv.Options.LogEvents
	db     *dbCollector       // exports nothing until SetDB
	done   chan error
}

func startMetrics(addr string) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usageError{err}
	}
	m := walprom.New("walkv", nil)
	reg := prometheus.NewRegistry()
	dbc := newDBCollector()
	reg.MustRegister(m, dbc, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s := &metricsServer{
		ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		events: m.Listener(), db: dbc, done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// SetDB makes the server export db's figures.
func (s *metricsServer) SetDB(db *walkv.DB) { s.db.db.Store(db) }

// Addr is the address the metrics are served on.
func (s *metricsServer) Addr() string { return s.ln.Addr().String() }

// Close stops the server.
func (s *metricsServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
