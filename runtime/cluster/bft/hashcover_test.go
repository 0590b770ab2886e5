package bft

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/sign"
)

// TestAppHashCoversSavedState: every field of the saved state (what a
// restart and state sync restore) is covered by the application hash:
// a saved state with any one field dropped is refused, never served.
// The fixture fills every field, and a field added to savedState that
// it does not fill fails the test, so a new part of the state cannot
// go unhashed unnoticed.
func TestAppHashCoversSavedState(t *testing.T) {
	vendor, _ := sign.Generate(sign.MLDSA65Ed25519)
	pem := string(vendor.Public().MarshalPEM())
	g, _ := json.Marshal(Genesis{LeaseMillis: 1000, LicenceTrust: []string{pem}, DeployTrust: []string{pem}})
	c, roots := sealedChain(t, 1)
	a := c.apps[0]
	if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{ChainId: "c", Validators: validators(c), AppStateBytes: g}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "app.json")
	if err := a.Persist(Persistence{Path: path}); err != nil {
		t.Fatal(err)
	}
	k := c.keys[0]
	z := c.keys[2]
	mis := []abci.Misbehavior{{Type: abci.MisbehaviorType_DUPLICATE_VOTE, Validator: abci.Validator{Address: z.PubKey().Address(), Power: 10}}}
	res := c.block(0, mis, c.lease(k, 1), c.event(k, 1, c.found(0, "acme")), c.licenceTx(k, issueLicence(t, vendor, "l1", "", c.t0.Add(-time.Hour), 0)))
	wantCodes(t, res, codeOK, codeOK, codeOK)
	// acme sealed (sealed.go): its space is saved sealed.
	wantCodes(t, c.block(50*time.Millisecond, nil, c.event(k, 1, c.sealing(a.FSM().TenancyRev(), map[string]string{"acme": "encrypt"}))), codeOK)
	wantCodes(t, c.block(100*time.Millisecond, nil, c.event(k, 1, c.start("c1", 0)), c.sealedEvent(a, k, 1, "acme", c.start("c1", 0))), codeOK, codeOK)
	if _, err := a.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	var saved map[string]json.RawMessage
	if err := json.Unmarshal(raw, &saved); err != nil {
		t.Fatal(err)
	}
	// What identifies the save rather than the state.
	meta := map[string]bool{"v": true, "height": true, "app_hash": true}
	m, _ := engine.NewMachine(compile(t))
	// The control: the whole save loads (a restarted validator's), at
	// the hash the block committed, its sealed space opened.
	whole := NewApp(m, c.prog)
	whole.SetSealing(roots[0], testSeals)
	if err := whole.Persist(Persistence{Path: path}); err != nil {
		t.Fatalf("the whole saved state: %v", err)
	}
	if want, _ := a.AppHashAt(c.height); !bytes.Equal(whole.appHash, want) || whole.Space("acme").Events("c1") != 1 {
		t.Fatal("the whole saved state loads otherwise")
	}
	st := reflect.TypeOf(savedState{})
	for i := range st.NumField() {
		key, _, _ := strings.Cut(st.Field(i).Tag.Get("json"), ",")
		if meta[key] {
			continue
		}
		if v, ok := saved[key]; !ok || string(v) == "null" || string(v) == "[]" || string(v) == "{}" {
			t.Fatalf("the fixture leaves saved field %s (%q) empty: fill it, so that its coverage is tested", st.Field(i).Name, key)
		}
		drop := map[string]json.RawMessage{}
		for k, v := range saved {
			if k != key {
				drop[k] = v
			}
		}
		b, _ := json.Marshal(drop)
		os.WriteFile(path, b, 0o600)
		re := NewApp(m, c.prog)
		re.SetSealing(roots[0], testSeals) // so that a sealed space opens
		if err := re.Persist(Persistence{Path: path}); !errors.Is(err, ErrBadState) {
			t.Fatalf("a saved state without %q loaded: %v", key, err)
		}
	}
}
