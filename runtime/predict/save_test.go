package predict_test

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/export"
	"github.com/knhk/knhk/runtime/predict"
)

// simModel trains on n simulated cases and returns the model with the
// prefixes of a few other cases to predict for.
func simModel(t testing.TB, n int, seed uint64, steps int) (*predict.Model, []predict.Prefix) {
	d, err := predict.FromLog(simLog(rand.New(rand.NewPCG(seed, 3)), n+10), 5)
	if err != nil {
		t.Fatal(err)
	}
	m, err := predict.Train(d.Names, d.Cases[:n], predict.Options{Steps: steps, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return m, predict.Prefixes(d.Cases[n:], false)
}

// TestSaveLoad: a saved model, read back, predicts exactly what the
// model trained in memory predicts, and keeps its descriptor and count.
func TestSaveLoad(t *testing.T) {
	m, ps := simModel(t, 200, 7, 40)
	path := filepath.Join(t.TempDir(), "predict", "d.model")
	if err := predict.SaveFile(path, &predict.Saved{Descriptor: "abc", Cases: 200, Model: m}); err != nil {
		t.Fatal(err)
	}
	s, err := predict.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Descriptor != "abc" || s.Cases != 200 {
		t.Errorf("read back descriptor %q, %d cases", s.Descriptor, s.Cases)
	}
	want, got := m.Predict(ps), s.Model.Predict(ps)
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("prefix %d: saved model predicts %+v, trained one %+v", i, got[i], want[i])
		}
	}
}

func TestUsable(t *testing.T) {
	s := &predict.Saved{Descriptor: "d1", Cases: 100}
	for _, c := range []struct {
		desc  string
		cases int
		ok    bool
	}{
		{"d1", 100, true}, {"d1", 120, true}, {"d1", 121, false}, {"d1", 99, false}, {"d2", 100, false},
	} {
		if ok, why := s.Usable(c.desc, c.cases); ok != c.ok || ok != (why == "") {
			t.Errorf("Usable(%s, %d) = %v %q, want %v", c.desc, c.cases, ok, why, c.ok)
		}
	}
}

// TestDamagedModel: every truncation, a flipped byte and another
// version are errors, never a model.
func TestDamagedModel(t *testing.T) {
	m, _ := simModel(t, 60, 1, 40)
	b := (&predict.Saved{Descriptor: "d", Cases: 60, Model: m}).Marshal()
	for n := 0; n < len(b); n += max(1, len(b)/200) {
		if _, err := predict.Unmarshal(b[:n]); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(b))
		}
	}
	flip := append([]byte{}, b...)
	flip[len(flip)/2] ^= 0x40
	if _, err := predict.Unmarshal(flip); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("flipped byte: %v", err)
	}
	v2 := append([]byte{}, b...)
	v2[8] = predict.FormatVersion + 1
	if _, err := predict.Unmarshal(v2); !errors.Is(err, predict.ErrVersion) {
		t.Errorf("other version: %v", err)
	}
}

// FuzzUnmarshal: any bytes decode to an error or to a model that
// predicts without panicking. The checksum is recomputed on the fuzzed
// body (by re-marshalling what decodes) so the checks behind it are
// reached too.
func FuzzUnmarshal(f *testing.F) {
	// A small model (few rounds) keeps the inputs small enough to mutate
	// quickly.
	m, _ := simModel(f, 8, 2, 2)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	run := export.Trace{Case: "run", Events: []export.Event{
		{Activity: "receive", Time: t0}, {Activity: "check", Time: t0.Add(time.Hour)}}}
	good := (&predict.Saved{Descriptor: "d", Cases: 30, Model: m}).Marshal()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("KNHKPRED\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, in := range [][]byte{b, predict.Reseal(b)} {
			s, err := predict.Unmarshal(in)
			if err != nil {
				continue
			}
			s.Model.PredictTrace(run)
			if again, err := predict.Unmarshal(s.Marshal()); err != nil || again.Cases != s.Cases {
				t.Fatalf("re-marshalled model: %v", err)
			}
		}
	})
}
