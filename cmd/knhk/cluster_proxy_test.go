// This file implements the partitioning proxy of the process-level
// Jepsen test: one TCP proxy in front of each node's raft address (the
// node advertises the proxy's address with --raft-advertise), which
// cuts the connections between nodes on different sides of a
// partition. Every node dials the same address for a peer, so the proxy
// tells the sender by the first raft message on a connection, whose
// header carries the sender's advertised address.

package main

import (
	"bytes"
	"io"
	"net"
	"sync"
	"time"
)

// raftProxies are the proxies of a cluster and the partition they
// enforce.
type raftProxies struct {
	mu    sync.Mutex
	side  map[string]int    // node id -> side; absent is side 0
	addrs map[string]string // advertised (proxy) address -> node id
	conns map[*proxied]bool
	lns   []net.Listener
	cut   int // connections refused or cut
}

// proxied is one connection through a proxy, from node from to node to.
type proxied struct {
	from, to string
	a, b     net.Conn
}

func newRaftProxies() *raftProxies {
	return &raftProxies{side: map[string]int{}, addrs: map[string]string{}, conns: map[*proxied]bool{}}
}

// add starts the proxy of node id, whose raft listens on target, and
// returns the address the node advertises.
func (p *raftProxies) add(id, target string) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	p.mu.Lock()
	p.addrs[addr] = id
	p.lns = append(p.lns, ln)
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c, id, target)
		}
	}()
	return addr, nil
}

// sender returns the node whose advertised address comes first in buf
// (the raft header precedes any other address a message carries).
func (p *raftProxies) sender(buf []byte) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	best, at := "", len(buf)
	for addr, id := range p.addrs {
		i := bytes.Index(buf, []byte(addr))
		// An address that continues with a digit is a longer port.
		if i >= 0 && i < at && (i+len(addr) == len(buf) || buf[i+len(addr)] < '0' || buf[i+len(addr)] > '9') {
			best, at = id, i
		}
	}
	return best
}

func (p *raftProxies) serve(c net.Conn, to, target string) {
	// Read until the sender's address shows, or give up on knowing it.
	buf := make([]byte, 0, 4096)
	from := ""
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	for from == "" && len(buf) < cap(buf) {
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		from = p.sender(buf)
		if err != nil {
			break
		}
	}
	c.SetReadDeadline(time.Time{})
	d, err := net.DialTimeout("tcp", target, time.Second)
	if err != nil {
		c.Close()
		return
	}
	pc := &proxied{from: from, to: to, a: c, b: d}
	p.mu.Lock()
	if p.blocked(from, to) {
		p.cut++
		p.mu.Unlock()
		c.Close()
		d.Close()
		return
	}
	p.conns[pc] = true
	p.mu.Unlock()
	if _, err := d.Write(buf); err != nil {
		p.drop(pc)
		return
	}
	go func() {
		io.Copy(c, d)
		p.drop(pc)
	}()
	io.Copy(d, c)
	p.drop(pc)
}

// blocked reports whether from and to are on different sides; an
// unknown sender passes. p.mu is held.
func (p *raftProxies) blocked(from, to string) bool {
	return from != "" && p.side[from] != p.side[to]
}

func (p *raftProxies) drop(pc *proxied) {
	pc.a.Close()
	pc.b.Close()
	p.mu.Lock()
	delete(p.conns, pc)
	p.mu.Unlock()
}

// partition puts the nodes of alone on their own side, cutting the
// connections that cross.
func (p *raftProxies) partition(alone ...string) {
	p.mu.Lock()
	p.side = map[string]int{}
	for _, id := range alone {
		p.side[id] = 1
	}
	var cut []*proxied
	for pc := range p.conns {
		if p.blocked(pc.from, pc.to) {
			cut = append(cut, pc)
			p.cut++
		}
	}
	p.mu.Unlock()
	for _, pc := range cut {
		p.drop(pc)
	}
}

// heal joins every node on one side again.
func (p *raftProxies) heal() {
	p.mu.Lock()
	p.side = map[string]int{}
	p.mu.Unlock()
}

// unknown counts the live connections whose sender the proxy could not
// tell (a partition cannot cut them).
func (p *raftProxies) unknown() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for pc := range p.conns {
		if pc.from == "" {
			n++
		}
	}
	return n
}

func (p *raftProxies) close() {
	p.mu.Lock()
	lns := p.lns
	var all []*proxied
	for pc := range p.conns {
		all = append(all, pc)
	}
	p.mu.Unlock()
	for _, ln := range lns {
		ln.Close()
	}
	for _, pc := range all {
		p.drop(pc)
	}
}
