// This file holds the Jepsen-style test over real processes: three
// knhk serve --node processes on loopback, clients starting, signalling
// and reading cases through any node with request ids, while a nemesis
// SIGKILLs and restarts the leader, pauses nodes with SIGSTOP (to the
// paused node, a partition and a jump of its clock) and partitions the
// raft traffic through a proxy in front of each node; porcupine checks
// the recorded history for linearizability.

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/knhk/knhk/runtime/cluster"
)

// jCluster is three node processes and their proxies.
type jCluster struct {
	t       *testing.T
	dir     string
	ids     []string
	listen  map[string]string // id -> HTTP address
	raft    map[string]string // id -> raft address
	adv     map[string]string // id -> proxy address the node advertises
	proxies *raftProxies
	http    *http.Client

	mu      sync.Mutex
	procs   map[string]*serveProc
	paused  map[string]bool
	deposed atomic.Int64 // leaders a partition deposed
	// odd are answers no client should get (a 400 to a well-formed
	// call): the test fails on any.
	odd []string
}

// freeAddr returns a free loopback address whose port is below the
// kernel's ephemeral range, so that no outgoing connection takes it
// while a killed node is down and the node restarts on it.
func freeAddr(t *testing.T) string {
	for range 100 {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 10000+rand.IntN(10000)))
		if err != nil {
			continue
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	t.Fatal("no free port in 10000..19999")
	return ""
}

func (c *jCluster) url(id string) string { return "http://" + c.listen[id] }

// start starts (or restarts, on its data) node id.
func (c *jCluster) start(id string, join bool) {
	args := []string{"--listen", c.listen[id], "--node", id, "--raft", c.raft[id], "--raft-advertise", c.adv[id], "app.knhk"}
	if join {
		args = append(args, "--join", c.url(c.ids[0]))
	}
	p := startServe(c.t, c.dir, "d-"+id, args...)
	c.mu.Lock()
	c.procs[id] = p
	c.mu.Unlock()
}

func (c *jCluster) signal(id string, sig syscall.Signal) {
	c.mu.Lock()
	p := c.procs[id]
	c.paused[id] = sig == syscall.SIGSTOP
	c.mu.Unlock()
	p.cmd.Process.Signal(sig)
}

func (c *jCluster) kill(id string) {
	c.mu.Lock()
	p := c.procs[id]
	c.mu.Unlock()
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

// status reads node id's view of the cluster.
func (c *jCluster) status(id string) (*cluster.Status, bool) {
	r, err := c.http.Get(c.url(id) + cluster.StatusPath)
	if err != nil {
		return nil, false
	}
	defer r.Body.Close()
	var st cluster.Status
	if r.StatusCode != 200 || json.NewDecoder(r.Body).Decode(&st) != nil {
		return nil, false
	}
	return &st, true
}

// leader returns the leader the running nodes agree on, "" when they
// do not within 20 s.
func (c *jCluster) leader() string {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		votes := map[string]int{}
		for _, id := range c.ids {
			c.mu.Lock()
			paused := c.paused[id]
			c.mu.Unlock()
			if st, ok := c.status(id); ok && !paused && st.Leader != "" {
				votes[st.Leader]++
			}
		}
		for l, n := range votes {
			if n >= 2 {
				return l
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ""
}

// call sends one HTTP call; status 0 means no answer.
func (c *jCluster) call(method, url string, body any) (int, []byte) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	r, err := c.http.Do(req)
	if err != nil {
		return 0, nil
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return 0, nil
	}
	return r.StatusCode, b
}

// invoke runs one operation through a random node, retrying with the
// same request id on any node for up to eight seconds, as a client of
// the cluster does.
func (c *jCluster) invoke(rng *rand.Rand, reqID string, in jInput) jOutput {
	return c.invokeOn(rng, c.ids, "", reqID, in)
}

// invokeOn runs an operation through one of the nodes on; a read adds
// query (the negative control reads with ?consistency=stale).
func (c *jCluster) invokeOn(rng *rand.Rand, on []string, query, reqID string, in jInput) jOutput {
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		base := c.url(on[rng.IntN(len(on))])
		var code int
		var body []byte
		switch in.kind {
		case jStart:
			code, body = c.call("POST", base+"/cluster/v1/cases", map[string]any{"id": in.key, "workflow": "R", "input": json.RawMessage(strconv.Quote(in.key)), "request_id": reqID})
		case jSignal:
			code, body = c.call("POST", base+"/cluster/v1/cases/"+in.key+"/signal", map[string]any{"name": "Set", "payload": map[string]int64{"x": in.x}, "request_id": reqID})
		case jGet:
			code, body = c.call("GET", base+"/cluster/v1/cases/"+in.key+query, nil)
		case jQuery:
			code, body = c.call("POST", base+"/knhk.v1.KnhkService/QueryCase", map[string]string{"caseId": in.key, "name": "value"})
		}
		switch {
		case code == http.StatusOK && in.kind == jGet:
			var v struct {
				Status string          `json:"status"`
				Result json.RawMessage `json:"result"`
			}
			if err := json.Unmarshal(body, &v); err != nil {
				c.oddAnswer(in, code, body)
				return jOutput{unknown: true}
			}
			out := jOutput{done: v.Status != "running"}
			if out.done {
				out.result = -1 << 62 // a failed or cancelled case matches no signal
				if v.Status == "completed" {
					if x, err := strconv.ParseInt(string(v.Result), 10, 64); err == nil {
						out.result = x
					}
				}
			}
			return out
		case code == http.StatusOK && in.kind == jQuery:
			var v struct {
				ResultJSON string `json:"resultJson"`
			}
			x, err := int64(0), json.Unmarshal(body, &v)
			if err == nil {
				x, err = strconv.ParseInt(v.ResultJSON, 10, 64)
			}
			if err != nil {
				c.oddAnswer(in, code, body)
				return jOutput{unknown: true}
			}
			return jOutput{result: x}
		case code == http.StatusOK:
			return jOutput{}
		case code == http.StatusConflict && in.kind == jStart:
			return jOutput{err: "exists"}
		case code == http.StatusNotFound && in.kind != jStart:
			return jOutput{err: "nocase"}
		case code != 0 && code < 500:
			c.oddAnswer(in, code, body)
			return jOutput{unknown: true}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return jOutput{unknown: true}
}

func (c *jCluster) oddAnswer(in jInput, code int, body []byte) {
	c.mu.Lock()
	c.odd = append(c.odd, fmt.Sprintf("%v %s: %d %s", in.kind, in.key, code, body))
	c.mu.Unlock()
}

// jNemesis runs each fault kind once, in an order seed shuffles, each
// held a moment and healed; it returns how often each ran.
func (c *jCluster) jNemesis(seed uint64) map[string]int {
	kinds := []string{"kill-leader", "pause-leader", "pause-follower", "partition-leader", "partition-follower"}
	rng := rand.New(rand.NewPCG(seed, 7))
	done := map[string]int{}
	for _, k := range rng.Perm(len(kinds)) {
		l := c.leader()
		if l == "" {
			c.t.Logf("nemesis: no leader for %s", kinds[k])
			continue
		}
		victim := l
		if strings.HasSuffix(kinds[k], "follower") {
			for victim == l {
				victim = c.ids[rng.IntN(len(c.ids))]
			}
		}
		switch kinds[k] {
		case "kill-leader":
			c.kill(victim)
			time.Sleep(time.Second)
			c.start(victim, false)
		case "pause-leader", "pause-follower":
			c.signal(victim, syscall.SIGSTOP)
			time.Sleep(3 * time.Second)
			c.signal(victim, syscall.SIGCONT)
		default:
			c.proxies.partition(victim)
			time.Sleep(3 * time.Second)
			if victim == l {
				// The cut is real: the majority elects another leader.
				c.waitMajority(victim)
			}
			c.proxies.heal()
		}
		done[kinds[k]]++
		time.Sleep(time.Second)
	}
	return done
}

// waitMajority waits until the nodes other than cut agree on a leader
// that is not cut, and counts it in c.deposed.
func (c *jCluster) waitMajority(cut string) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		agree := 0
		for _, id := range c.ids {
			if st, ok := c.status(id); ok && id != cut && st.Leader != "" && st.Leader != cut {
				agree++
			}
		}
		if agree == len(c.ids)-1 {
			c.deposed.Add(1)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// staleControl is the negative control: with follower f partitioned
// away, a case is started and signalled through the majority and read
// from f's own copy (?consistency=stale); the checker must call that
// history illegal, or a pass of the test proves nothing.
func (c *jCluster) staleControl() porcupine.CheckResult {
	l := c.leader()
	f := c.ids[0]
	for _, id := range c.ids {
		if id != l {
			f = id
		}
	}
	var majority []string
	for _, id := range c.ids {
		if id != f {
			majority = append(majority, id)
		}
	}
	c.proxies.partition(f)
	defer c.proxies.heal()
	h := &jHistory{}
	rng := rand.New(rand.NewPCG(3, 4))
	for i, k := range []string{"s0", "s1", "s2"} {
		for _, in := range []jInput{{kind: jStart, key: k}, {kind: jSignal, key: k, x: int64(i + 1)}} {
			h.record(0, in, func() jOutput { return c.invokeOn(rng, majority, "", "control-"+in.kind.String()+k, in) })
		}
		in := jInput{kind: jGet, key: k}
		h.record(1, in, func() jOutput { return c.invokeOn(rng, []string{f}, "?consistency=stale", "", in) })
	}
	return porcupine.CheckOperationsTimeout(jModel.ToModel(), h.operations(), 10*time.Second)
}

// TestClusterProcessesLinearizable is the Jepsen-style test over real
// processes: four clients (starts, signals, reads, queries) on five
// cases against three knhk serve --node processes under the nemesis,
// then a final read of every case; porcupine must find the history
// linearizable.
func TestClusterProcessesLinearizable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills knhk serve processes for about a minute")
	}
	const seed = 14
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.knhk"), []byte(registerSource), 0o666); err != nil {
		t.Fatal(err)
	}
	c := &jCluster{t: t, dir: dir, ids: []string{"n1", "n2", "n3"}, listen: map[string]string{}, raft: map[string]string{}, adv: map[string]string{},
		proxies: newRaftProxies(), http: &http.Client{Timeout: 2 * time.Second}, procs: map[string]*serveProc{}, paused: map[string]bool{}}
	defer c.proxies.close()
	defer func() {
		for _, p := range c.procs {
			p.cmd.Process.Signal(syscall.SIGCONT)
			p.cmd.Process.Kill()
			p.cmd.Wait()
			if t.Failed() {
				t.Logf("node log:\n%s", tail(p.log(), 3000))
			}
		}
	}()
	for _, id := range c.ids {
		c.listen[id], c.raft[id] = freeAddr(t), freeAddr(t)
		adv, err := c.proxies.add(id, c.raft[id])
		if err != nil {
			t.Fatal(err)
		}
		c.adv[id] = adv
	}
	for i, id := range c.ids {
		c.start(id, i > 0)
	}
	waitUntil(t, "three voters", func() bool {
		st, ok := c.status("n1")
		if !ok {
			return false
		}
		return voters(st) == 3 && st.Leader != ""
	})

	keys := []string{"k0", "k1", "k2", "k3", "k4"}
	h := &jHistory{}
	stop := make(chan struct{})
	var faults map[string]int
	go func() {
		defer close(stop)
		faults = c.jNemesis(seed)
	}()
	var acked atomic.Int64
	var wg sync.WaitGroup
	for cl := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(cl)))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				in := jInput{key: keys[rng.IntN(len(keys))]}
				switch r := rng.IntN(10); {
				case r < 3:
					in.kind = jStart
				case r < 6:
					in.kind = jSignal
					in.x = int64(cl*100000 + i + 1)
				case r < 8:
					in.kind = jGet
				default:
					in.kind = jQuery
				}
				reqID := fmt.Sprintf("c%d-%d", cl, i)
				out := h.record(cl, in, func() jOutput { return c.invoke(rng, reqID, in) })
				if !out.unknown && (in.kind == jStart || in.kind == jSignal) {
					acked.Add(1)
				}
				time.Sleep(30 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	// Every node is back and joined: read every case at the end.
	rng := rand.New(rand.NewPCG(seed, 99))
	for _, k := range keys {
		in := jInput{kind: jGet, key: k}
		h.record(9, in, func() jOutput { return c.invoke(rng, "", in) })
	}
	ops := h.operations()
	done, set := 0, 0
	for _, op := range ops {
		o, in := op.Output.(jOutput), op.Input.(jInput)
		if in.kind == jGet && o.done {
			done++
		}
		if in.kind == jQuery && !o.unknown && o.err == "" && o.result != 0 {
			set++
		}
	}
	t.Logf("%d operations, %d writes acknowledged, %d reads of completed cases, %d queries of a set register; faults %v; %d raft connections cut, %d of unknown sender",
		len(ops), acked.Load(), done, set, faults, c.proxies.cut, c.proxies.unknown())
	if len(c.odd) > 0 {
		t.Errorf("answers no client should get: %s", strings.Join(c.odd, "; "))
	}
	if len(faults) != 5 || acked.Load() < 10 || done == 0 || set == 0 || c.proxies.cut == 0 || c.deposed.Load() == 0 {
		t.Fatalf("the run did too little to check: faults %v, %d acknowledged writes, %d completed reads, %d set queries, %d connections cut, %d leaders deposed by a partition",
			faults, acked.Load(), done, set, c.proxies.cut, c.deposed.Load())
	}
	res, info := porcupine.CheckOperationsVerbose(jModel.ToModel(), ops, 30*time.Second)
	if res != porcupine.Ok {
		m := jModel.ToModel()
		for _, part := range jModel.Partition(ops) {
			if porcupine.CheckOperationsTimeout(m, part, 10*time.Second) == porcupine.Ok {
				continue
			}
			sort.Slice(part, func(i, j int) bool { return part[i].Call < part[j].Call })
			for _, op := range part {
				t.Logf("[%d,%d] c%d %s", op.Call, op.Return, op.ClientId, jModel.DescribeOperation(op.Input, op.Output))
			}
			break
		}
		path := filepath.Join(os.TempDir(), "knhk-cluster-processes-linearizability.html")
		porcupine.VisualizePath(m, info, path)
		t.Fatalf("history is %s (want Ok); %d operations; see %s", res, len(ops), path)
	}
	if res := c.staleControl(); res != porcupine.Illegal {
		t.Fatalf("stale reads from a partitioned follower gave a %s history; the checker must find them illegal", res)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
