package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/receipt"
	"github.com/knhk/knhk/runtime/sign"
)

func rec(tenant, action, result string) Record {
	return Record{Tenant: tenant, Subject: tenant + "-admin", Role: "admin", Credential: CredToken, Action: action, Targets: []string{"case:c1"}, Remote: "127.0.0.1:1234", Result: result}
}

func appendN(t *testing.T, l *Log, n int, tenant string) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := l.Append(rec(tenant, "/knhk.v1.KnhkService/GetCase", ResultOK)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendChainsAndSurvivesReopen(t *testing.T) {
	data := t.TempDir()
	l, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	// Concurrent appends are batched; every acknowledged one is there.
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, err := l.Append(rec("acme", "/knhk.v1.KnhkService/StartCase", ResultOK)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// A second Log on the same directory (another process: knhk tenant
	// create beside knhk serve) continues the same chain.
	l2, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l2.Append(rec("default", "knhk tenant create", ResultOK))
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 200 {
		t.Fatalf("second writer's record has seq %d, want 200", r.Seq)
	}
	r, err = l.Append(rec("acme", "/knhk.v1.KnhkService/GetCase", "not_found"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 201 {
		t.Fatalf("first writer's record after the second's has seq %d, want 201", r.Seq)
	}
	l.Close()
	l2.Close()
	if _, err := l.Append(rec("acme", "x", ResultOK)); err == nil {
		t.Fatal("append after close succeeded")
	}
	recs, err := ReadAll(data)
	if err != nil || len(recs) != 202 {
		t.Fatalf("ReadAll: %d records, %v", len(recs), err)
	}
	rep, err := Verify(data, VerifyOptions{})
	if err != nil || rep.Problem != nil || rep.Records != 202 {
		t.Fatalf("Verify: %+v, %v", rep, err)
	}
	if !strings.Contains(rep.ProofNote, "not anchored") {
		t.Fatalf("unanchored log's note: %q", rep.ProofNote)
	}
}

// tamper rewrites line seq of the log (0-based record) with f.
func tamper(t *testing.T, data string, f func(lines [][]byte) [][]byte) {
	t.Helper()
	path := filepath.Join(data, Dir, LogFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b[len(header):], []byte("\n"))
	lines = lines[:len(lines)-1]
	var out []byte
	out = append(out, header...)
	for _, l := range f(lines) {
		out = append(out, l...)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyNamesFirstBadRecord(t *testing.T) {
	edit := func(lines [][]byte, i int, fn func(r *Record)) [][]byte {
		r, err := decodeLine(bytes.TrimSpace(lines[i]))
		if err != nil {
			t.Fatal(err)
		}
		fn(r)
		lines[i] = encodeLine(r)
		return lines
	}
	cases := []struct {
		name string
		f    func([][]byte) [][]byte
		seq  uint64
		want string
	}{
		{"field changed", func(ls [][]byte) [][]byte {
			return edit(ls, 4, func(r *Record) { r.Result = "ok-forged" })
		}, 4, "does not match its contents"},
		{"deleted", func(ls [][]byte) [][]byte { return append(ls[:3], ls[4:]...) }, 3, "sequence number 4 where 3"},
		{"swapped", func(ls [][]byte) [][]byte { ls[5], ls[6] = ls[6], ls[5]; return ls }, 5, "sequence number 6 where 5"},
		{"rehashed", func(ls [][]byte) [][]byte {
			return edit(ls, 2, func(r *Record) { r.Subject = "mallory"; r.Hash = r.ComputeHash() })
		}, 3, "previous hash"},
		{"garbage", func(ls [][]byte) [][]byte { ls[7] = []byte("{not json\n"); return ls }, 7, "does not decode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := t.TempDir()
			l, err := Open(data)
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, l, 10, "acme")
			l.Close()
			tamper(t, data, c.f)
			rep, err := Verify(data, VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Problem == nil || rep.Problem.Seq != c.seq || !strings.Contains(rep.Problem.Reason, c.want) {
				t.Fatalf("problem %+v, want record %d: %q", rep.Problem, c.seq, c.want)
			}
			// The damaged log is refused for appends.
			if _, err := Open(data); err == nil || !strings.Contains(err.Error(), "damaged") {
				t.Fatalf("Open of a damaged log: %v", err)
			}
		})
	}
}

func TestCutLineDropped(t *testing.T) {
	data := t.TempDir()
	l, _ := Open(data)
	appendN(t, l, 3, "acme")
	l.Close()
	f, _ := os.OpenFile(filepath.Join(data, Dir, LogFile), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":3,"time":"x`)
	f.Close()
	l, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Append(rec("acme", "x", ResultOK))
	if err != nil || r.Seq != 3 {
		t.Fatalf("append after a cut line: %+v %v", r, err)
	}
	l.Close()
	if rep, _ := Verify(data, VerifyOptions{}); rep.Problem != nil || rep.Records != 4 {
		t.Fatalf("%+v", rep)
	}
}

// anchored makes an audit log of n records anchored in a receipt log
// signed by a fresh key, and returns the key.
func anchored(t *testing.T, data string, n int) *sign.PrivateKey {
	t.Helper()
	k, err := sign.Generate(sign.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := receipt.Open(data, receipt.Options{Key: k, Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	a, err := StartAnchorer(data, l, rl, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, n/2, "acme")
	if err := a.Anchor(); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, n-n/2, "beta")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rl.Close(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	return k
}

func TestAnchorsProvedInReceiptLog(t *testing.T) {
	data := t.TempDir()
	k := anchored(t, data, 10)
	trust := sign.NewTrustSet(k.Public())
	rep, err := Verify(data, VerifyOptions{Trust: trust})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Problem != nil || rep.Anchors != 2 || rep.Proved != 2 || rep.Anchored != 10 {
		t.Fatalf("%+v", rep)
	}
	// The receipt log verifies with the anchors standing in for events.
	rrep, err := receipt.Verify(data, receipt.VerifyOptions{Trust: trust, Events: func(fn func(string, *engine.Event) error) error { return AnchorEvents(data, fn) }})
	if err != nil || rrep.Problem != nil || rrep.Receipts != 2 {
		t.Fatalf("receipts: %+v %v", rrep, err)
	}
	// Another key is not trusted.
	other, _ := sign.Generate(sign.Ed25519)
	rep, _ = Verify(data, VerifyOptions{Trust: sign.NewTrustSet(other.Public())})
	if rep.Problem == nil || !strings.Contains(rep.Problem.Reason, "not trusted") {
		t.Fatalf("other key: %+v", rep.Problem)
	}
	// Records rewritten with recomputed hashes (the chain alone cannot
	// tell) are caught by the anchor that covered them.
	tamper(t, data, func(ls [][]byte) [][]byte {
		var prev Digest
		for i := range ls {
			r, _ := decodeLine(bytes.TrimSpace(ls[i]))
			if i == 2 {
				r.Result = "ok-forged"
			}
			r.Prev = prev
			r.Hash = r.ComputeHash()
			prev = r.Hash
			ls[i] = encodeLine(r)
		}
		return ls
	})
	rep, _ = Verify(data, VerifyOptions{Trust: trust})
	if rep.Problem == nil || rep.Problem.Seq != 0 || !strings.Contains(rep.Problem.Reason, "anchor 1") {
		t.Fatalf("rewritten chain: %+v", rep.Problem)
	}
}

func TestEvidenceRoundTripAndRedaction(t *testing.T) {
	data := t.TempDir()
	k := anchored(t, data, 6)
	trust := sign.NewTrustSet(k.Public())
	l, _ := Open(data)
	l.Append(Record{Tenant: "default", Subject: "root", Role: "admin", Credential: CredLocal, Action: "knhk tenant create", Targets: []string{"tenant:acme"}, Remote: "local", Result: ResultOK})
	l.Append(Record{Tenant: "acme", Subject: "eve", Role: "viewer", Credential: CredToken, Action: "/knhk.v1.KnhkService/Deploy", Remote: "10.0.0.9:5", Result: "permission_denied"})
	l.Close()
	ev, err := Collect(data, CollectOptions{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	var clear, red int
	for _, e := range ev.Records {
		if e.Record == nil {
			red++
		} else {
			clear++
			if e.Record.Tenant != "acme" {
				t.Fatalf("tenant acme's export shows a record of %s", e.Record.Tenant)
			}
		}
	}
	if clear != 4 || red != 4 {
		t.Fatalf("%d clear, %d redacted; want 4 and 4", clear, red)
	}
	crit := map[string]int{}
	for _, c := range ev.Criteria {
		crit[c.ID] = len(c.Records)
	}
	if crit["CC6.1"] != 4 || crit["CC6.3"] != 1 || crit["CC7.2"] != 1 {
		t.Fatalf("criteria %v", crit)
	}
	for _, f := range Formats {
		var buf bytes.Buffer
		if err := Write(&buf, ev, f); err != nil {
			t.Fatal(err)
		}
		if f == "csv" {
			if !strings.HasPrefix(buf.String(), strings.Join(CSVHeader, ",")) || strings.Count(buf.String(), "\n") != 9 {
				t.Fatalf("csv:\n%s", buf.String())
			}
			continue
		}
		back, err := DecodeEvidence(buf.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		rep := Check(back, VerifyOptions{Trust: trust})
		if rep.Problem != nil || rep.Records != 8 || rep.Redacted != 4 || rep.Proved != 2 {
			t.Fatalf("%s: %+v", f, rep)
		}
		// A redacted record's digest changed, or a clear one's field,
		// is found at that record.
		back.Records[1].Body[0] ^= 1
		if rep := Check(back, VerifyOptions{Trust: trust}); rep.Problem == nil || rep.Problem.Seq != 1 {
			t.Fatalf("%s: tampered evidence: %+v", f, rep.Problem)
		}
	}
	var buf bytes.Buffer
	WriteJSON(&buf, ev)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m["proof"] == nil {
		t.Fatalf("json export has no proof: %v", err)
	}
	_ = fmt.Sprint()
}
