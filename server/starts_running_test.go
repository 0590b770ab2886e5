package server

import (
	"context"
	"testing"
)

// runningByCounts is what CaseCounts reports as running: the pass over
// every case that Running replaces.
func runningByCounts(s *Service) int {
	n := 0
	s.CaseCounts(func(_, status string, k int) {
		if status == "running" {
			n += k
		}
	})
	return n
}

// TestRunningCount: Running, kept as cases start and end, says what a
// pass over every case says, through starts, a refused start, parking,
// a signal, a cancel, completions and a restart.
func TestRunningCount(t *testing.T) {
	dir := t.TempDir()
	refuse := false
	s, err := Open(dir, Options{IndexEvery: -1, AdmitStart: func(string) (func(), error) {
		if refuse {
			return nil, context.Canceled
		}
		return func() {}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	deploy(t, s)
	ctx := context.Background()
	check := func(want int, when string) {
		t.Helper()
		if got, pass := s.Running(), runningByCounts(s); got != want || pass != want {
			t.Fatalf("%s: Running %d, CaseCounts %d, want %d", when, got, pass, want)
		}
	}
	check(0, "empty")
	h1 := start(t, s, "Hold", `"a"`)
	h2 := start(t, s, "Hold", `"b"`)
	h3 := start(t, s, "Hold", `"c"`)
	check(3, "three held")
	inc := start(t, s, "Inc", `1`)
	wait(t, s, inc)
	check(3, "after a case completed")
	refuse = true
	if _, _, err := s.Start(ctx, StartRequest{Workflow: "Hold", Input: []byte(`"x"`)}); err == nil {
		t.Fatal("refused start started")
	}
	refuse = false
	check(3, "after a refused start")
	waitParked(t, s, h1)
	check(3, "a case parked")
	if _, err := s.Signal(ctx, h1, "Approve", []byte(`"z"`)); err != nil {
		t.Fatal(err)
	}
	wait(t, s, h1)
	check(2, "after a signal ended one")
	if _, err := s.Cancel(ctx, h2); err != nil {
		t.Fatal(err)
	}
	wait(t, s, h2)
	check(1, "after a cancel")
	closeSvc(t, s)
	s = open(t, dir)
	defer closeSvc(t, s)
	check(1, "after a restart")
	if _, err := s.Signal(ctx, h3, "Approve", []byte(`"z"`)); err != nil {
		t.Fatal(err)
	}
	wait(t, s, h3)
	check(0, "all ended")
}
