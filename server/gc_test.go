package server

import "testing"

// TestGCPercentFor: a small live heap may grow by the headroom (at most
// tuneMax percent), a large one by itself (Go's default, never less).
func TestGCPercentFor(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, tuneMax},
		{1 << 20, tuneMax},
		{tuneHeadroom / 4, 400},
		{tuneHeadroom / 2, 200},
		{tuneHeadroom, 100},
		{4 << 30, 100},
	} {
		if got := gcPercentFor(c.live); got != c.want {
			t.Errorf("gcPercentFor(%d) = %d, want %d", c.live, got, c.want)
		}
	}
}

// TestTuneGCLeavesGOGC: a GOGC the user set is left alone.
func TestTuneGCLeavesGOGC(t *testing.T) {
	t.Setenv("GOGC", "100")
	if TuneGC() {
		t.Fatal("TuneGC tuned with GOGC set")
	}
}
