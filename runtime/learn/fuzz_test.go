// This file fuzzes the decoders of the policy files and of the
// configuration: whatever the bytes, decoding either fails with an error
// or gives a policy that can be restored, shown and used to decide, and
// that encodes and decodes to itself.

package learn

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"

	"github.com/knhk/knhk/runtime/eval"
)

// validFiles returns policy files of a tabular and of an actor-critic
// route, trained a little.
func validFiles(f *testing.F) [][]byte {
	var out [][]byte
	for _, alg := range []Algorithm{UCB, ActorCritic} {
		dir := f.TempDir()
		p, err := Open(nil, Options{Dir: dir, Seed: 1, Config: &Config{Default: RouteConfig{Policy: alg, Hidden: 2, Batch: 2}}})
		if err != nil {
			f.Fatal(err)
		}
		for i := range 10 {
			feats := []any{[]string{"eu", "us"}[i%2], int64(i)}
			k, _ := p.Choose(context.Background(), "carrier", eval.Values(feats...), 2)
			p.Learn("carrier", eval.Values(feats...), k, float64(-i), i%3 != 0)
		}
		p.Close()
		b, err := os.ReadFile(PolicyPath(dir, "carrier"))
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzDecodeFile(f *testing.F) {
	for _, b := range validFiles(f) {
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte(`{"format":"knhk-learn-policy","version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pf, err := DecodeFile(b)
		if err != nil {
			return
		}
		prefs := pf.Preferences()
		for _, p := range prefs {
			if p.Best < 0 || p.Best >= len(pf.Signature.Candidates) {
				t.Fatalf("state %q picks candidate %d of %d", p.State, p.Best, len(pf.Signature.Candidates))
			}
		}
		n := len(pf.Signature.Candidates)
		a := newAgent(pf.Config.withDefaults(), n, pf.State, rand.New(rand.NewPCG(1, 2)))
		if k := a.publish().choose(input{key: "x", toks: []string{"0:x"}}, n, globalRand{}); k < 0 || k >= n {
			t.Fatalf("restored policy chose %d of %d", k, n)
		}
		again, err := json.Marshal(pf)
		if err != nil {
			t.Fatal(err)
		}
		pf2, err := DecodeFile(again)
		if err != nil {
			t.Fatalf("a decoded file does not decode again: %v", err)
		}
		if !reflect.DeepEqual(pf, pf2) {
			t.Fatalf("round trip changed the file")
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"default":{"policy":"ucb","c":2},"routes":{"carrier":{"policy":"sarsa","bins":[null,[10]]}}}`))
	f.Add([]byte(`{"routes":{"r":{"policy":"actor-critic","hidden":4,"replay":8}}}`))
	f.Add([]byte(`{"default":{"epsilon":-1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig("c.json", b)
		if err != nil {
			return
		}
		for name := range c.Routes {
			if err := c.For(name).validate(); err != nil {
				t.Fatalf("accepted configuration gives route %s: %v", name, err)
			}
		}
		if err := c.For("other").validate(); err != nil {
			t.Fatalf("accepted configuration gives the default: %v", err)
		}
	})
}
