// This file implements a GroupMux: several raft groups (a cluster's own
// and one per tenant, knhk serve --node --tenants) sharing one raft
// listener and address on each node. Every connection opens with the
// name of the group it is for; the mux hands it to that group's
// transport. So a node needs one port and one TLS identity whatever the
// number of tenants, and a tenant group's members have the same raft
// addresses as the cluster's.

package cluster

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// groupMagic opens every connection through a GroupMux; the byte after
// it is the length of the group's name, then the name.
const groupMagic = "KNHKG1"

// maxGroupName bounds a group's name (a tenant id is at most 63 bytes).
const maxGroupName = 128

// groupHeaderTimeout bounds how long an accepted connection may take to
// name its group.
const groupHeaderTimeout = 10 * time.Second

// GroupMux shares one raft stream layer among raft groups.
type GroupMux struct {
	base raft.StreamLayer

	mu     sync.Mutex
	groups map[string]*groupLayer
	closed bool
	done   chan struct{}
}

// NewGroupMux serves the groups of base's connections; base is the
// node's listener (TCP, or mutual TLS: [NewTLSStreamLayer]).
func NewGroupMux(base raft.StreamLayer) *GroupMux {
	m := &GroupMux{base: base, groups: map[string]*groupLayer{}, done: make(chan struct{})}
	go m.accept()
	return m
}

// ListenTLSGroupMux listens on addr with mutual TLS (see
// [NewTLSStreamLayer]).
func ListenTLSGroupMux(addr string, cfg *tls.Config) (*GroupMux, error) {
	sl, err := NewTLSStreamLayer(addr, cfg)
	if err != nil {
		return nil, err
	}
	return NewGroupMux(sl), nil
}

// ListenTCPGroupMux listens on addr with plain TCP; advertise, when not
// empty, is the address the other nodes dial.
func ListenTCPGroupMux(addr, advertise string) (*GroupMux, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &tcpLayer{Listener: ln, addr: ln.Addr()}
	if advertise != "" {
		a, err := net.ResolveTCPAddr("tcp", advertise)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("advertised raft address %q: %w", advertise, err)
		}
		l.addr = a
	}
	return NewGroupMux(l), nil
}

// tcpLayer is a plain TCP raft.StreamLayer.
type tcpLayer struct {
	net.Listener
	addr net.Addr
}

func (t *tcpLayer) Addr() net.Addr { return t.addr }

func (t *tcpLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(addr), timeout)
}

// Addr returns the address the other nodes dial for every group.
func (m *GroupMux) Addr() net.Addr { return m.base.Addr() }

// Transport returns the raft transport of group name ("" for the
// cluster's own). A name is served by one transport at a time; closing
// the transport frees it.
func (m *GroupMux) Transport(name string, logOutput io.Writer) (*raft.NetworkTransport, error) {
	if len(name) > maxGroupName {
		return nil, fmt.Errorf("raft group name of %d bytes (at most %d)", len(name), maxGroupName)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, net.ErrClosed
	}
	if m.groups[name] != nil {
		return nil, fmt.Errorf("raft group %q already has a transport on this node", name)
	}
	g := &groupLayer{m: m, name: name, conns: make(chan net.Conn, 16), done: make(chan struct{})}
	m.groups[name] = g
	if logOutput == nil {
		logOutput = io.Discard
	}
	return raft.NewNetworkTransport(g, 3, 10*time.Second, logOutput), nil
}

// Close closes the listener; every group's Accept then fails.
func (m *GroupMux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	err := m.base.Close()
	<-m.done
	return err
}

func (m *GroupMux) accept() {
	defer close(m.done)
	for {
		c, err := m.base.Accept()
		if err != nil {
			m.mu.Lock()
			closed := m.closed
			m.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // a transient failure (too many files)
			continue
		}
		go m.route(c)
	}
}

// route reads the connection's group and hands it over; a connection
// for a group this node does not serve (yet) is closed, and its raft
// retries.
func (m *GroupMux) route(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(groupHeaderTimeout))
	br := bufio.NewReaderSize(c, 256)
	name, err := readGroupHeader(br)
	if err != nil {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	m.mu.Lock()
	g := m.groups[name]
	m.mu.Unlock()
	if g == nil {
		c.Close()
		return
	}
	bc := &bufferedConn{Conn: c, r: br}
	select {
	case g.conns <- bc:
	case <-g.done:
		c.Close()
	case <-time.After(groupHeaderTimeout):
		c.Close() // the group's transport does not accept: raft retries
	}
}

// readGroupHeader reads the magic and the group's name.
func readGroupHeader(r *bufio.Reader) (string, error) {
	hdr := make([]byte, len(groupMagic)+1)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return "", err
	}
	if string(hdr[:len(groupMagic)]) != groupMagic {
		return "", fmt.Errorf("not a raft group connection")
	}
	n := int(hdr[len(groupMagic)])
	if n > maxGroupName {
		return "", fmt.Errorf("raft group name of %d bytes", n)
	}
	name := make([]byte, n)
	if _, err := io.ReadFull(r, name); err != nil {
		return "", err
	}
	return string(name), nil
}

// groupHeader is what a connection of group name opens with.
func groupHeader(name string) []byte {
	b := append([]byte(groupMagic), byte(len(name)))
	return append(b, name...)
}

// bufferedConn reads what the header's reader buffered first.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// groupLayer is one group's raft.StreamLayer on a GroupMux.
type groupLayer struct {
	m     *GroupMux
	name  string
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func (g *groupLayer) Accept() (net.Conn, error) {
	select {
	case c := <-g.conns:
		return c, nil
	case <-g.done:
		return nil, net.ErrClosed
	case <-g.m.done:
		return nil, net.ErrClosed
	}
}

// Close frees the group's name on the mux; the shared listener stays.
func (g *groupLayer) Close() error {
	g.once.Do(func() {
		g.m.mu.Lock()
		if g.m.groups[g.name] == g {
			delete(g.m.groups, g.name)
		}
		g.m.mu.Unlock()
		close(g.done)
	})
	return nil
}

func (g *groupLayer) Addr() net.Addr { return g.m.base.Addr() }

func (g *groupLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := g.m.base.Dial(addr, timeout)
	if err != nil {
		return nil, err
	}
	c.SetWriteDeadline(time.Now().Add(max(timeout, time.Second)))
	if _, err := c.Write(groupHeader(g.name)); err != nil {
		c.Close()
		return nil, fmt.Errorf("raft group %q to %s: %w", g.name, addr, err)
	}
	c.SetWriteDeadline(time.Time{})
	return c, nil
}
