package walkv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// TLS
//
// gnet's event loops speak plain TCP only, so the TLS port is served by a
// goroutine per connection: it completes the handshake with crypto/tls
// and relays the decrypted stream through a Unix socket pair whose other
// end is handed to an event loop like any accepted connection. The
// command protocol, limits and access control thus have one
// implementation; a TLS connection costs two goroutines and a copy each
// way. The event loop sees the client's real address (for protected mode
// and CLIENT replies) through the context it is enrolled with (bridged).
// A client that does not read its replies fills the socket pair, then
// its output buffer in the loop: client-output-buffer-limit applies.
// When the loop closes the connection (a limit, idle timeout, Close), it
// gives the relay tlsCloseGrace to write what is left, then the write
// fails and the relay ends, even for a client that never reads.

// tlsHandshakeTimeout bounds a TLS handshake; tlsCloseGrace the relay's
// last writes once the loop closed the connection.
const (
	tlsHandshakeTimeout = 10 * time.Second
	tlsCloseGrace       = time.Second
)

// bridged is the context a TLS connection is enrolled with.
type bridged struct {
	remote net.Addr
	raw    net.Conn // the TCP connection under TLS: its write deadline ends the relay (see OnClose)
}

// TLSConfig builds a server tls.Config from PEM files as Redis's
// tls-cert-file, tls-key-file and tls-ca-cert-file name them. authClients
// is tls-auth-clients: "yes" (the default when empty) requires a client
// certificate signed by the CA, "optional" verifies one if sent, "no"
// asks for none.
func TLSConfig(certFile, keyFile, caFile, authClients string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: tls: %w", ErrInvalidOption, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	switch strings.ToLower(authClients) {
	case "", "yes":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case "optional":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	case "no":
		return cfg, nil
	default:
		return nil, fmt.Errorf("%w: tls-auth-clients %q (want yes, no or optional)", ErrInvalidOption, authClients)
	}
	if caFile == "" {
		return nil, fmt.Errorf("%w: tls-auth-clients %s needs a CA file", ErrInvalidOption, authClients)
	}
	pool, err := LoadCertPool(caFile)
	if err != nil {
		return nil, err
	}
	cfg.ClientCAs = pool
	return cfg, nil
}

// LoadCertPool reads PEM certificates from path.
func LoadCertPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: tls: %w", ErrInvalidOption, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: tls: no certificate in %s", ErrInvalidOption, path)
	}
	return pool, nil
}

// ServeTLS serves TLS connections accepted on ln (which it takes over)
// with cfg, in the background, until Close.
func (srv *Server) ServeTLS(ln net.Listener, cfg *tls.Config) error {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.stopped() {
		ln.Close()
		return ErrClosed
	}
	srv.tlsLns = append(srv.tlsLns, ln)
	srv.bridges.Add(1)
	go srv.acceptTLS(tls.NewListener(ln, cfg))
	return nil
}

// TLSAddrs returns the addresses of the TLS listeners.
func (srv *Server) TLSAddrs() []net.Addr {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var as []net.Addr
	for _, ln := range srv.tlsLns {
		as = append(as, ln.Addr())
	}
	return as
}

// acceptTLS accepts TLS connections until the listener is closed.
func (srv *Server) acceptTLS(ln net.Listener) {
	defer srv.bridges.Done()
	var delay time.Duration
	for next := 0; ; next++ {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			srv.db.opts.Logger.Warn("walkv: accepting a TLS connection failed; retrying", "err", err, "retry_in", delay)
			srv.pause(delay)
			continue
		}
		delay = 0
		srv.bridges.Add(1)
		go srv.bridge(nc.(*tls.Conn), next)
	}
}

// bridge completes tc's handshake and relays it to an event loop.
func (srv *Server) bridge(tc *tls.Conn, next int) {
	defer srv.bridges.Done()
	ctx, cancel := context.WithTimeout(context.Background(), tlsHandshakeTimeout)
	go func() { // Close cancels a handshake in progress
		select {
		case <-srv.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		srv.db.opts.Logger.Info("walkv: TLS handshake failed", "client", tc.RemoteAddr().String(), "err", err)
		tc.Close()
		return
	}
	inner, outer, err := socketPair()
	if err != nil {
		srv.db.opts.Logger.Warn("walkv: TLS relay: socket pair failed", "err", err)
		tc.Close()
		return
	}
	if !srv.enrollBridged(inner, &bridged{remote: tc.RemoteAddr(), raw: tc.NetConn()}, next) {
		outer.Close()
		tc.Close()
		return
	}
	relay(tc, outer)
}

// enrollBridged hands inner to an event loop unless the server is
// closing; enrollMu keeps Close from stopping the loops meanwhile.
func (srv *Server) enrollBridged(inner net.Conn, b *bridged, next int) bool {
	srv.enrollMu.RLock()
	defer srv.enrollMu.RUnlock()
	select {
	case <-srv.stopping:
		inner.Close()
		return false
	default:
	}
	loop := srv.loops[next%len(srv.loops)]
	if _, err := loop.EnrollContext(inner, b); err != nil { // closes inner
		srv.db.opts.Logger.Warn("walkv: handing a TLS connection to an event loop failed", "err", err)
		return false
	}
	return true
}

// relay copies between the TLS connection and the socket pair's end
// until either side ends, then closes both.
func relay(tc *tls.Conn, outer net.Conn) {
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			tc.Close()
			outer.Close()
		})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(tc, outer) // replies
		closeBoth()
	}()
	_, _ = io.Copy(outer, tc) // requests
	if uc, ok := outer.(*net.UnixConn); ok {
		_ = uc.CloseWrite() // the loop sees EOF and closes; replies still flow
	}
	<-done
	closeBoth()
}
