package audit

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/store"
)

// TestStoreSeam puts the keys at the store's seam, as knhk serve does:
// events sealed above the store and snapshots sealed by SealPayload are
// ciphertext on disk, and every kind of scan (Scan, Records, ScanViews)
// gives them back in clear; after an erasure the case's events come back
// redacted (ErasedValue, its kind and times kept) and the scan of the
// whole log goes on over the other case, which still reads.
func TestStoreSeam(t *testing.T) {
	dir := t.TempDir()
	keys, err := Enable(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !Enabled(dir) {
		t.Fatal("Enable did not mark the directory")
	}
	st, err := store.Open(dir, store.Options{OpenPayload: keys.OpenRecord, SealPayload: keys.SealRecord})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	appendEv := func(id string, ev *engine.Event) {
		t.Helper()
		sealed, err := keys.SealEvent(id, ev)
		if err != nil {
			t.Fatal(err)
		}
		b, err := engine.EncodeEvent(sealed)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Append(ctx, store.Record{CaseID: id, Kind: ev.Kind.String(), Payload: b}); err != nil {
			t.Fatal(err)
		}
	}
	appendEv("gone", &engine.Event{Kind: engine.EvStart, Values: eval.Values("secret-gone"), Time: 7})
	appendEv("kept", &engine.Event{Kind: engine.EvStart, Values: eval.Values("secret-kept"), Time: 8})
	snap := []byte("snapshot-secret-gone")
	recs := []store.Record{{CaseID: "gone", Kind: engine.SnapshotKind, Payload: snap}}
	if _, err := st.AppendBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(recs[0].Payload, snap) {
		t.Fatal("SealPayload changed the caller's record")
	}
	if dirContains(t, dir, "secret-gone") || dirContains(t, dir, "secret-kept") {
		t.Fatal("a payload is in clear in the data directory")
	}
	if !keys.Written("gone") || keys.Written("never") {
		t.Fatal("Written")
	}

	// scanAll reads the log the three ways and returns what each saw.
	scanAll := func() []string {
		t.Helper()
		var out []string
		see := func(id, kind string, p []byte) {
			if kind == engine.SnapshotKind {
				out = append(out, id+":snap:"+string(p))
				return
			}
			ev, err := engine.DecodeEvent(p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, id+":"+ev.Values[0].AsString())
		}
		var a, b, c []string
		if err := st.Scan(ctx, 0, func(r store.Record) error { see(r.CaseID, r.Kind, r.Payload); return nil }); err != nil {
			t.Fatal(err)
		}
		a, out = out, nil
		for r, err := range st.Records(ctx, 0) {
			if err != nil {
				t.Fatal(err)
			}
			see(r.CaseID, r.Kind, r.Payload)
		}
		b, out = out, nil
		if err := st.ScanViews(ctx, store.Position{}, func(v store.RecordView, _ store.Position) error {
			see(string(v.CaseID), string(v.Kind), v.Payload)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		c = out
		if strings.Join(a, "|") != strings.Join(b, "|") || strings.Join(a, "|") != strings.Join(c, "|") {
			t.Fatalf("the scans disagree:\n%v\n%v\n%v", a, b, c)
		}
		return a
	}
	if got := strings.Join(scanAll(), "|"); got != "gone:secret-gone|kept:secret-kept|gone:snap:snapshot-secret-gone" {
		t.Fatalf("before the erasure: %s", got)
	}
	if err := keys.EraseCase("gone"); err != nil {
		t.Fatal(err)
	}
	if !keys.Written("gone") || !errors.Is(keys.Erased("gone"), ErrErased) || keys.Erased("kept") != nil {
		t.Fatal("Erased/Written after the erasure")
	}
	got := scanAll()
	if got[0] != "gone:"+ErasedValue || got[1] != "kept:secret-kept" || !strings.HasPrefix(got[2], "gone:snap:"+ShredPrefix) {
		t.Fatalf("after the erasure: %q", got)
	}
	// A new record of an erased case cannot be written.
	if _, err := st.Append(ctx, store.Record{CaseID: "gone", Kind: engine.SnapshotKind, Payload: []byte("x")}); !errors.Is(err, ErrErased) {
		t.Fatalf("a snapshot of an erased case: %v", err)
	}
	// The tenant: nothing reads, Enable refuses.
	if err := keys.EraseTenant(); err != nil {
		t.Fatal(err)
	}
	if got := scanAll(); got[1] != "kept:"+ErasedValue {
		t.Fatalf("after the tenant's erasure: %q", got)
	}
	if _, err := Enable(dir); !errors.Is(err, ErrErased) {
		t.Fatalf("Enable of an erased tenant: %v", err)
	}
}

// TestOpenRecordTampered: a payload changed on disk is an error naming
// the case, not a redaction or a panic.
func TestOpenRecordTampered(t *testing.T) {
	keys, err := Enable(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := keys.SealEvent("c1", &engine.Event{Kind: engine.EvStart, Values: eval.Values("v")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := engine.EncodeEvent(sealed)
	if _, err := keys.OpenRecord([]byte("c2"), []byte("start"), b); err == nil || !strings.Contains(err.Error(), "case c2") {
		t.Fatalf("another case's payload: %v", err)
	}
	snap, _ := keys.SealRecord("c1", engine.SnapshotKind, []byte("state"))
	snap[len(snap)-1] ^= 1
	if _, err := keys.OpenRecord([]byte("c1"), []byte(engine.SnapshotKind), snap); err == nil {
		t.Fatal("a changed snapshot opened")
	}
}

// FuzzOpenRecord: whatever bytes a record holds, OpenRecord returns a
// payload or an error, never panics.
func FuzzOpenRecord(f *testing.F) {
	keys, err := Enable(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	sealed, _ := keys.SealEvent("c1", &engine.Event{Kind: engine.EvStart, Values: eval.Values("v")})
	b, _ := engine.EncodeEvent(sealed)
	snap, _ := keys.SealRecord("c1", engine.SnapshotKind, []byte("state"))
	f.Add("c1", "start", b)
	f.Add("c1", engine.SnapshotKind, snap)
	f.Add("c1", "start", []byte(ShredPrefix))
	f.Fuzz(func(t *testing.T, id, kind string, p []byte) {
		keys.OpenRecord([]byte(id), []byte(kind), p)
	})
}

// TestSealText: the index's fields are sealed only for a case written
// encrypted, open back, and are an erasure once the case is erased.
func TestSealText(t *testing.T) {
	keys, err := Enable(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if s, err := keys.SealText("clear", `"r"`); err != nil || s != `"r"` {
		t.Fatalf("a case without a key: %q %v", s, err)
	}
	if _, err := keys.CaseKey("c1", true); err != nil {
		t.Fatal(err)
	}
	s, err := keys.SealText("c1", `"result"`)
	if err != nil || !strings.HasPrefix(s, ShredPrefix) || strings.Contains(s, "result") {
		t.Fatalf("sealed: %q %v", s, err)
	}
	if got, err := keys.OpenText("c1", s); err != nil || got != `"result"` {
		t.Fatalf("opened: %q %v", got, err)
	}
	if _, err := keys.OpenText("c2", s); err == nil {
		t.Fatal("one case's field opened as another's")
	}
	if err := keys.EraseCase("c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.OpenText("c1", s); !errors.Is(err, ErrErased) {
		t.Fatalf("after the erasure: %v", err)
	}
}

// TestOpenRecordSpliced: the fast path of OpenRecord (the decrypted
// members spliced into the encoding) decodes to the very event that
// was sealed, whatever its payload carries.
func TestOpenRecordSpliced(t *testing.T) {
	keys, err := Enable(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []*engine.Event{
		{Kind: engine.EvStart, Values: eval.Values("a \"quoted\" ]\" value", int64(3), 2.5, true, nil), Time: 9, Name: "n"},
		{Kind: engine.EvFail, Message: `boom "]`, Time: 1},
		{Kind: engine.EvSignal, Name: `"v":["knhk-shred:v1:x"]`, Values: []eval.Value{eval.Map(eval.Values("k"), eval.Values("v")), eval.Values([]any{"x"})[0]}},
	} {
		want, _ := engine.EncodeEvent(ev)
		sealed, err := keys.SealEvent("c1", ev)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := engine.EncodeEvent(sealed)
		if _, ok := keys.openSpliced("c1", b); !ok {
			t.Fatalf("%s: the fast path was not taken", want)
		}
		out, err := keys.OpenRecord([]byte("c1"), []byte(ev.Kind.String()), b)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := engine.DecodeEvent(out)
		if err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if got, _ := engine.EncodeEvent(dec); !bytes.Equal(got, want) {
			t.Fatalf("spliced:\n%s\nwant:\n%s", got, want)
		}
	}
}
