package bft

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	nm "github.com/cometbft/cometbft/node"
)

// TestLegacyHomesReopen: four validator homes run by the version that
// hashed the whole snapshot (its hash stood in by tamper), saving every
// third block, are stopped and opened on this version: CometBFT replays
// each one's blocks after its saved state (or from the first, for the
// one that saved none) against the hashes its block store recorded,
// and the chain then goes on with the incremental hash on all four.
func TestLegacyHomesReopen(t *testing.T) {
	skipUnderRace(t)
	_, m, hash, dir, _ := initHomes(t, "knhk-legacy")
	homes := []string{"v0", "v1", "v2", "v3"}
	for i, h := range homes {
		every := int64(3)
		if i == 3 {
			every = 1 << 30 // never saves: replays from block 1
		}
		editHome(t, dir+"/"+h, func(f *homeFile) { f.SaveEvery = every })
	}
	open := func(legacy bool) ([]*App, []*nm.Node) {
		var apps []*App
		var nodes []*nm.Node
		for _, h := range homes {
			app := NewApp(m, hash)
			if legacy {
				app.tamper = func([]byte) []byte {
					l, err := app.legacyHash()
					if err != nil {
						panic(err)
					}
					return l
				}
			}
			node, err := Open(dir+"/"+h, app, io.Discard)
			if err != nil {
				t.Fatalf("opening %s: %v", h, err)
			}
			apps, nodes = append(apps, app), append(nodes, node)
		}
		return apps, nodes
	}
	stop := func(nodes []*nm.Node) {
		for _, n := range nodes {
			n.Stop()
			n.Wait()
		}
		// The databases close a grace period after the stop (db.go).
		time.Sleep(closeGrace(cfg.DefaultConfig()) + time.Second)
	}
	apps, nodes := open(true)
	waitFor(t, "the old version's chain to pass block 7", func() bool {
		for _, a := range apps {
			if a.Height() < 8 {
				return false
			}
		}
		return true
	})
	stop(nodes)
	tip := apps[0].Height()
	for _, a := range apps[1:] {
		tip = max(tip, a.Height())
	}

	apps, nodes = open(false)
	defer stop(nodes)
	want := tip + 3
	waitFor(t, fmt.Sprintf("the chain to reach block %d on this version", want), func() bool {
		for _, a := range apps {
			if a.Height() < want {
				return false
			}
		}
		return true
	})
	h0, _ := apps[0].AppHashAt(want)
	for i, a := range apps {
		if h, ok := a.AppHashAt(want); !ok || !bytes.Equal(h, h0) {
			t.Fatalf("validator %d: block %d hashed %X, validator 0 %X", i, want, h, h0)
		}
	}
	a := apps[0]
	a.mu.Lock()
	now, err := a.hash()
	a.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := a.AppHashAt(a.Height()); !bytes.Equal(h, now) {
		t.Fatalf("the new blocks hash %X, want the incremental %X", h, now)
	}
}
