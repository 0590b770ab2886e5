package audit

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/receipt"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/runtime/store"
	"github.com/knhk/knhk/runtime/worker"
)

const piiSource = `package pii

task mask(s: string) -> string extern

workflow Person(name: string) -> string {
  let m = mask(name)
  return m + "!"
}
`

// storeEvents is receipt.VerifyOptions.Events over st: the events as the
// log stores them (ciphertext).
func storeEvents(st *store.Store) func(func(string, *engine.Event) error) error {
	return func(fn func(string, *engine.Event) error) error {
		return st.Scan(context.Background(), 0, func(r store.Record) error {
			if r.Kind == engine.SnapshotKind {
				return nil
			}
			ev, err := engine.DecodeEvent(r.Payload)
			if err != nil {
				return err
			}
			return fn(r.CaseID, ev)
		})
	}
}

// dirContains says whether any file under dir holds s.
func dirContains(t *testing.T, dir, s string) bool {
	t.Helper()
	found := false
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			found = found || bytes.Contains(b, []byte(s))
		}
		return nil
	})
	return found
}

// TestCryptoShredding runs real cases (checked and compiled as knhk run
// does) through the engine over the durable store, with their payloads
// encrypted under per-case keys above the receipt log: nothing of the
// inputs or results is in the data directory in clear; replay gives them
// back; after a case is erased its replay is refused with a clear error
// while the other case still reads, and after the tenant is erased
// nothing reads; the receipt log still verifies against the event log,
// and the audit log, which records the erasures, still verifies.
func TestCryptoShredding(t *testing.T) {
	pkg, info, diags := check.CheckSource("pii.knhk", []byte(piiSource), &check.Config{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p, ld := compiler.Build(pkg, info)
	if ld.HasErrors() {
		t.Fatal(ld)
	}
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k, _ := sign.Generate(sign.Ed25519)
	rec, err := receipt.Open(dir, receipt.Options{Key: k, Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := OpenKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := p.Hash()
	log := Shred(rec.Wrap(engine.StoreLog{Store: st}, h), keys)
	reg := worker.NewRegistry()
	reg.Register("mask", func(_ context.Context, c worker.Call) (eval.Value, error) {
		return eval.Str(strings.ToUpper(c.Args[0].AsString())), nil
	})
	e, err := engine.New(engine.Config{Program: p, Eval: &host.Evaluator{}, Worker: worker.New(p, worker.Options{Registry: reg}), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for id, name := range map[string]string{"p1": "Ada Lovelace", "p2": "Grace Hopper"} {
		if err := e.Start(ctx, id, "Person", []any{name}); err != nil {
			t.Fatal(err)
		}
		s, err := e.Snapshot(id)
		if err != nil || s.Status != engine.Completed || s.Result != eval.Str(strings.ToUpper(name)+"!") {
			t.Fatalf("case %s: %v %+v", id, err, s)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Ada Lovelace", "ADA LOVELACE", "Grace Hopper", "GRACE HOPPER!"} {
		if dirContains(t, dir, secret) {
			t.Fatalf("%q is in the data directory in clear", secret)
		}
	}
	replay := func(id string) (string, error) {
		var vals []string
		err := log.Replay(ctx, id, func(ev *engine.Event) error {
			for _, v := range ev.Values {
				if v.Kind() == ir.KindString {
					vals = append(vals, v.AsString())
				}
			}
			return nil
		})
		return strings.Join(vals, " "), err
	}
	if got, err := replay("p1"); err != nil || !strings.Contains(got, "Ada Lovelace") || !strings.Contains(got, "ADA LOVELACE!") {
		t.Fatalf("replay of p1: %q %v", got, err)
	}
	al, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer al.Close()
	trust := sign.NewTrustSet(k.Public())
	verified := func(when string) {
		t.Helper()
		rep, err := receipt.Verify(dir, receipt.VerifyOptions{Trust: trust, Events: storeEvents(st)})
		if err != nil || rep.Problem != nil || !rep.EventsChecked || rep.Cases != 2 {
			t.Fatalf("%s: receipts: %v %+v", when, err, rep)
		}
		arep, err := Verify(dir, VerifyOptions{})
		if err != nil || arep.Problem != nil {
			t.Fatalf("%s: audit: %v %+v", when, err, arep)
		}
	}
	verified("before erasure")

	if err := keys.EraseCase("p1"); err != nil {
		t.Fatal(err)
	}
	al.Append(Record{Tenant: "default", Subject: "dpo", Role: "admin", Credential: CredLocal, Action: "knhk case erase", Targets: []string{"case_id=p1"}, Remote: "local", Result: ResultOK})
	_, err = replay("p1")
	var ee *ErasedError
	if !errors.Is(err, ErrErased) || !errors.As(err, &ee) || !strings.Contains(err.Error(), "case p1 was erased (crypto-shredded)") {
		t.Fatalf("replay of an erased case: %v", err)
	}
	if got, err := replay("p2"); err != nil || !strings.Contains(got, "Grace Hopper") {
		t.Fatalf("replay of p2 after p1's erasure: %q %v", got, err)
	}
	verified("after a case's erasure")

	// The tenant: every case, and for good (a reopened key set too).
	if err := keys.EraseTenant(); err != nil {
		t.Fatal(err)
	}
	if _, err := replay("p2"); !errors.Is(err, ErrErased) || !strings.Contains(err.Error(), "this tenant's data was erased") {
		t.Fatalf("replay after the tenant's erasure: %v", err)
	}
	again, err := OpenKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.CaseKey("p2", false); !errors.Is(err, ErrErased) {
		t.Fatalf("reopened keys: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, Dir, KeysDir, TenantKeyFile)); !os.IsNotExist(err) {
		t.Fatalf("the tenant key is still there: %v", err)
	}
	verified("after the tenant's erasure")
}

// TestShredPayloadTampered checks that a ciphertext moved to another case
// or changed does not open.
func TestShredPayloadTampered(t *testing.T) {
	keys, err := OpenKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ev := &engine.Event{Kind: engine.EvStart, Values: eval.Values("secret", int64(3)), Message: "why"}
	enc, err := keys.SealEvent("a", ev)
	if err != nil || len(enc.Values) != 1 || enc.Message != "" || ev.Values[0] != eval.Str("secret") {
		t.Fatalf("%+v %v", enc, err)
	}
	back, err := keys.OpenEvent("a", enc)
	if err != nil || back.Values[0] != eval.Str("secret") || back.Values[1] != eval.Int(3) || back.Message != "why" {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	keys.CaseKey("b", true)
	if _, err := keys.OpenEvent("b", enc); err == nil || !strings.Contains(err.Error(), "does not open with the case's key") {
		t.Fatalf("another case's payload: %v", err)
	}
}
