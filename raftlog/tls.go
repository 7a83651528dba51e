package raftlog

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/hashicorp/raft"
)

// Mutual TLS between nodes
//
// With NodeConfig.TLS set, raft's traffic runs over TLS in both
// directions, and each side requires the other's certificate to be
// signed by the cluster's CA: a process without such a certificate
// cannot send a vote request, a heartbeat or an AppendEntries (its
// handshake fails before raft decodes a byte), nor receive the log. A
// node's certificate must name the host of its raft address (an IP
// address or DNS name in its subject alternative names), which peers
// verify as HTTPS clients do.

// MutualTLSConfig builds the tls.Config of a node from PEM files: its
// certificate and key, and the cluster CA that must have signed every
// peer's certificate.
func MutualTLSConfig(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("raftlog: tls: %w", err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("raftlog: tls: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("raftlog: tls: no certificate in %s", caFile)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool, // peers as servers
		ClientCAs:    pool, // peers as clients
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS13,
	}, nil
}

// tlsStream is a raft.StreamLayer over mutual TLS.
type tlsStream struct {
	net.Listener // a tls listener
	advertise    net.Addr
	cfg          *tls.Config
}

var _ raft.StreamLayer = (*tlsStream)(nil)

// Dial connects to a peer and completes the handshake, verifying its
// certificate against the cluster CA and the host of address.
func (s *tlsStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	host, _, err := net.SplitHostPort(string(address))
	if err != nil {
		return nil, err
	}
	cfg := s.cfg.Clone()
	cfg.ServerName = host
	d := &net.Dialer{Timeout: timeout}
	return tls.DialWithDialer(d, "tcp", string(address), cfg)
}

// Addr is the advertised address.
func (s *tlsStream) Addr() net.Addr { return s.advertise }

// newTransport returns raft's TCP transport, over mutual TLS if cfg.TLS
// is set.
func newTransport(cfg NodeConfig, out io.Writer) (*raft.NetworkTransport, error) {
	const maxPool, timeout = 3, 10 * time.Second
	if cfg.TLS == nil {
		return raft.NewTCPTransport(cfg.RaftAddr, nil, maxPool, timeout, out)
	}
	adv, err := net.ResolveTCPAddr("tcp", cfg.RaftAddr)
	if err != nil {
		return nil, err
	}
	if adv.IP == nil || adv.IP.IsUnspecified() {
		return nil, errors.New("raftlog: RaftAddr must be an advertisable address")
	}
	ln, err := net.Listen("tcp", cfg.RaftAddr)
	if err != nil {
		return nil, err
	}
	stream := &tlsStream{Listener: tls.NewListener(ln, cfg.TLS), advertise: adv, cfg: cfg.TLS}
	return raft.NewNetworkTransport(stream, maxPool, timeout, out), nil
}
