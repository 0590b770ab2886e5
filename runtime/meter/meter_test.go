package meter_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/meter"
	"github.com/knhk/knhk/runtime/queue"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/runtime/store"
	"github.com/knhk/knhk/server"
)

const src = `package metered

import "std/time"

workflow Inc(n: int) -> int {
  return n + 1
}

workflow Nap(n: int) -> int {
  time.sleep(40ms)
  time.sleep(10ms)
  return n * 2
}
`

// transitions counts what server/metrics counts as transitions, through
// the same Observer hook.
type transitions struct{ n atomic.Int64 }

func (o *transitions) Event(ev *engine.Event) {
	if ev.Kind == engine.EvFire || ev.Kind == engine.EvTimer {
		o.n.Add(1)
	}
}
func (o *transitions) Commit(store.CommitInfo)              {}
func (o *transitions) Worker(w engine.Worker) engine.Worker { return w }
func (o *transitions) Queue(queue.QueueStats)               {}

// serve runs cases of Inc and Nap through a real server on dir.
func serve(t *testing.T, dir string, inc, nap int) int64 {
	t.Helper()
	obs := &transitions{}
	s, err := server.Open(dir, server.Options{IndexEvery: -1, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deploy("metered.knhk", []byte(src), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var ids []string
	for i := 0; i < inc+nap; i++ {
		wf := "Inc"
		if i >= inc {
			wf = "Nap"
		}
		id, _, err := s.Start(ctx, server.StartRequest{Workflow: wf, Input: []byte(`1`)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		if sum, done, err := s.Wait(ctx, id, false); err != nil || !done || sum.Status != "completed" {
			t.Fatalf("case %s: %+v %v", id, sum, err)
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return obs.n.Load()
}

// recount counts the log the plain way: record kinds, no event decoding.
func recount(t *testing.T, st *store.Store) (cases, trans, events, bytes int64) {
	t.Helper()
	err := st.Scan(context.Background(), 0, func(r store.Record) error {
		if r.Kind == engine.SnapshotKind {
			return nil
		}
		events++
		bytes += int64(len(r.CaseID) + len(r.Kind) + len(r.Payload))
		switch r.Kind {
		case "start":
			cases++
		case "fire", "timer":
			trans++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return
}

func count(t *testing.T, dir string) meter.Usage {
	t.Helper()
	st, err := store.OpenReadOnly(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := meter.Count(context.Background(), st, meter.Month(time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	c, tr, ev, b := recount(t, st)
	if u.Cases != c || u.Transitions != tr || u.Events != ev || u.StorageBytes != b {
		t.Fatalf("Count %+v disagrees with the recount: cases %d transitions %d events %d bytes %d", u, c, tr, ev, b)
	}
	return u
}

func TestCountReconciles(t *testing.T) {
	dir := t.TempDir()
	observed := serve(t, dir, 3, 2)
	u := count(t, dir)
	t.Logf("usage %+v", u)
	if u.Cases != 5 {
		t.Errorf("cases %d, want 5", u.Cases)
	}
	if u.Transitions != observed {
		t.Errorf("transitions %d; the server's observer (the metrics counter) saw %d", u.Transitions, observed)
	}
	// Two Nap cases each sleep 40ms and 10ms in tasks: at least 100ms of
	// task time, and no task time in Inc.
	if min := int64(2 * 50 * time.Millisecond); u.TaskTimeNS < min {
		t.Errorf("task time %v, want at least %v", time.Duration(u.TaskTimeNS), time.Duration(min))
	}
	if u.FirstSeq == 0 || u.LastSeq < u.FirstSeq {
		t.Errorf("sequence range %d..%d", u.FirstSeq, u.LastSeq)
	}
	// Another month of the same log holds nothing.
	st, _ := store.OpenReadOnly(dir, store.Options{})
	other, err := meter.Count(context.Background(), st, "1999-01")
	st.Close()
	if err != nil || other.Events != 0 || other.Digest == u.Digest {
		t.Errorf("1999-01: %+v %v", other, err)
	}

	// Sign, parse, verify, reconcile.
	k, err := sign.Generate(sign.MLDSA65Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	u.Customer = "acme"
	b, err := meter.Sign(k, u)
	if err != nil {
		t.Fatal(err)
	}
	r, err := meter.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(sign.NewTrustSet(k.Public()), sign.Policy{Min: sign.Hybrid}); err != nil {
		t.Fatal(err)
	}
	if err := r.Reconcile(count(t, dir)); err != nil {
		t.Fatal(err)
	}

	// One more case in the log: the report no longer reconciles, and the
	// error names what differs.
	serve(t, dir, 1, 0)
	err = r.Reconcile(count(t, dir))
	if err == nil {
		t.Fatal("a report reconciled with a log holding another case")
	}
	for _, f := range []string{"cases: report 5, log 6", "digest", "transitions"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("reconcile error %q does not mention %q", err, f)
		}
	}
}

func TestReportRefused(t *testing.T) {
	k, _ := sign.Generate(sign.MLDSA65Ed25519)
	u := meter.Usage{Version: meter.Version, Customer: "acme", Month: "2026-12", Events: 3, Transitions: 2, Cases: 1, Digest: strings.Repeat("ab", 32)}
	b, err := meter.Sign(k, u)
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(string(b), "KNHK USAGE REPORT-----\nVersion: 1\n\n", "KNHK USAGE REPORT-----\nVersion: 1\n\n", 1)
	// Raise the transitions in the JSON body (base64 in the block).
	r, _ := meter.Parse(b)
	u2 := r.Usage
	u2.Transitions = 1
	b2, _ := meter.Sign(k, u2)
	body2 := strings.SplitN(string(b2), "-----BEGIN KNHK SIGNATURE", 2)[0]
	sig1 := "-----BEGIN KNHK SIGNATURE" + strings.SplitN(tampered, "-----BEGIN KNHK SIGNATURE", 2)[1]
	if _, err := meter.Parse([]byte(body2 + sig1)); err == nil || !strings.Contains(err.Error(), "tampered") {
		t.Errorf("tampered report: %v", err)
	}
	other, _ := sign.Generate(sign.MLDSA65Ed25519)
	if err := r.Verify(sign.NewTrustSet(other.Public()), sign.Policy{}); err == nil {
		t.Error("a report verified with another key")
	}
	ed, _ := sign.Generate(sign.Ed25519)
	eb, _ := meter.Sign(ed, u)
	er, err := meter.Parse(eb)
	if err != nil {
		t.Fatal(err)
	}
	if err := er.Verify(sign.NewTrustSet(ed.Public()), sign.Policy{Min: sign.Hybrid}); err == nil {
		t.Error("an ed25519 report passed a hybrid policy")
	}
	bad := u
	bad.Month = "2026-13"
	if _, err := meter.Sign(k, bad); err == nil {
		t.Error("month 2026-13 accepted")
	}
}
