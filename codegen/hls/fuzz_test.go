package hls

import (
	"strings"
	"testing"
)

// FuzzCheckReplay feeds CheckReplay arbitrary testbench output: it must
// never panic, must accept only output with one well-formed line per
// step, and must count no more decisions than the steps ask for.
func FuzzCheckReplay(f *testing.F) {
	mod := &NetModule{OutArcs: [][]int{{1}, {2}}, TransNames: []string{"a", "b"}}
	steps := []ReplayStep{
		{Line: "0 0 0 0", What: "start", CheckState: true, Status: StatusRunning, Marking: 1},
		{Line: "1 0 1 0", What: "engine fires a", CheckKind: true, Kind: ResFire, Trans: 0, CheckState: true, Status: StatusRunning, Marking: 2},
		{Line: "1 0 0 0", What: "nothing", CheckKind: true, Kind: ResNone},
	}
	f.Add("0 0 1 0 0 1\n1 0 2 0 0 1\n0 0 2 0 0 1\n")
	f.Add("0 0 1 0 0 1\n1 1 2 0 0 1\n")
	f.Add("")
	f.Add("x y z\n\n\n")
	f.Add("0 0 ffffffffffffffffff 0 0 1\n1 0 2 0 0 1\n0 0 2 0 0 1\n")
	f.Add("3 200 2 0 0 1\n1 0 2 0 0 1\n0 0 2 0 0 1\n")
	f.Fuzz(func(t *testing.T, out string) {
		n, err := CheckReplay(mod, steps, out)
		if n > 1 {
			t.Fatalf("%d decisions counted, the steps have one", n)
		}
		if err == nil {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != len(steps) || n != 1 {
				t.Fatalf("accepted %q (%d decisions)", out, n)
			}
			for _, l := range lines {
				if len(strings.Fields(l)) != 6 {
					t.Fatalf("accepted the line %q", l)
				}
			}
		}
	})
}
