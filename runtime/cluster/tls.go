// This file implements raft's transport over mutual TLS: a StreamLayer
// whose listener and dialer both present the node's certificate and
// require the peer's to chain to the cluster's CA.

package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/hashicorp/raft"
)

// TLSStreamLayer is a raft.StreamLayer over TLS.
type TLSStreamLayer struct {
	net.Listener
	cfg *tls.Config
}

// NewTLSStreamLayer listens on addr with cfg, which must hold the
// node's certificate, the CA pool for peers (RootCAs and ClientCAs) and
// require client certificates.
func NewTLSStreamLayer(addr string, cfg *tls.Config) (*TLSStreamLayer, error) {
	ln, err := tls.Listen("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	return &TLSStreamLayer{Listener: ln, cfg: cfg}, nil
}

// Dial connects to a peer and completes the handshake before returning,
// so that a peer with a certificate of another CA fails here, not in the
// middle of a raft message.
func (s *TLSStreamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	c, err := tls.DialWithDialer(d, "tcp", string(addr), s.cfg)
	if err != nil {
		return nil, fmt.Errorf("raft over tls to %s: %w", addr, err)
	}
	return c, nil
}

// NewTLSTransport returns a raft transport over a [TLSStreamLayer].
func NewTLSTransport(addr string, cfg *tls.Config, logOutput io.Writer) (*raft.NetworkTransport, error) {
	sl, err := NewTLSStreamLayer(addr, cfg)
	if err != nil {
		return nil, err
	}
	return raft.NewNetworkTransport(sl, 3, 10*time.Second, logOutput), nil
}

// MutualTLS loads a node's certificate and key and the cluster's CA
// certificate into a config for [NewTLSStreamLayer]: both sides present
// certificates and verify the other's against the CA.
func MutualTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("raft tls key pair: %w", err)
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("raft tls ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("raft tls ca %s: no PEM certificate in it", caFile)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS13,
	}, nil
}
