package server

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
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

// openRefusing opens a Service in dir whose AdmitStart refuses a start
// (after its case is listed) when refuse says so.
func openRefusing(t *testing.T, dir string, refuse func() bool) *Service {
	t.Helper()
	s, err := Open(dir, Options{IndexEvery: -1, AdmitStart: func(string) (func(), error) {
		if refuse() {
			return nil, context.Canceled
		}
		return func() {}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRunningCount: Running, kept as cases start and end, says what a
// pass over every case says, through starts, a refused start, parking,
// a signal, a cancel, completions and a restart.
func TestRunningCount(t *testing.T) {
	dir := t.TempDir()
	refuse := false
	s := openRefusing(t, dir, func() bool { return refuse })
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

// TestRunningCountConcurrent: starts (some refused after their entry is
// listed), cancels and a restart racing each other leave Running where
// a pass over every case is, and it never goes below zero or above the
// cases asked for on the way. Nothing is left to chance: every third
// start asked for is refused, and the refused ones stay listed (waiting
// in AdmitStart) until every admitted start has returned and, for half
// of them, been cancelled, so 10 cases are held, 10 cancelled and 10
// refused while the others run.
func TestRunningCountConcurrent(t *testing.T) {
	const starts, refusedEach = 30, 3
	const admitted = starts - starts/refusedEach
	dir := t.TempDir()
	var (
		asked    atomic.Int64
		pending  sync.WaitGroup // the admitted starts (and cancels) not yet returned
		released = make(chan struct{})
	)
	pending.Add(admitted)
	go func() { pending.Wait(); close(released) }()
	s := openRefusing(t, dir, func() bool {
		if asked.Add(1)%refusedEach != 0 {
			return false
		}
		<-released // listed while the admitted ones start and end
		return true
	})
	deploy(t, s)
	ctx := context.Background()
	stop := make(chan struct{})
	var bad atomic.Int64
	var watching sync.WaitGroup
	watching.Add(1)
	go func() {
		defer watching.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n := s.Running(); n < 0 || n > starts {
				bad.Store(int64(n))
			}
			runtime.Gosched()
		}
	}()
	var (
		mu              sync.Mutex
		held, cancelled []string
		refused         int
		tickets         atomic.Int64
		wg              sync.WaitGroup
	)
	for i := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, _, err := s.Start(ctx, StartRequest{Workflow: "Hold", Input: []byte(`"x"`)})
			if errors.Is(err, context.Canceled) { // refused by AdmitStart
				mu.Lock()
				refused++
				mu.Unlock()
				return
			}
			defer pending.Done()
			if err != nil {
				t.Errorf("start %d: %v", i, err)
				return
			}
			// The admitted starts take turns: every other one is
			// cancelled, whatever order they came in.
			if tickets.Add(1)%2 == 0 {
				if _, err := s.Cancel(ctx, id); err != nil {
					t.Errorf("cancel %s: %v", id, err)
				}
				mu.Lock()
				cancelled = append(cancelled, id)
				mu.Unlock()
				return
			}
			mu.Lock()
			held = append(held, id)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, id := range cancelled {
		wait(t, s, id)
	}
	close(stop)
	watching.Wait()
	if n := bad.Load(); n != 0 {
		t.Fatalf("Running read %d while cases started and ended", n)
	}
	if len(held) != admitted/2 || len(cancelled) != admitted/2 || refused != starts-admitted {
		t.Fatalf("%d held, %d cancelled, %d refused of %d: want %d, %d, %d", len(held), len(cancelled), refused, starts,
			admitted/2, admitted/2, starts-admitted)
	}
	check := func(when string) {
		t.Helper()
		if got, pass := s.Running(), runningByCounts(s); got != len(held) || pass != len(held) {
			t.Fatalf("%s: Running %d, CaseCounts %d, want %d", when, got, pass, len(held))
		}
	}
	check("after the race")
	closeSvc(t, s)
	s = open(t, dir)
	defer closeSvc(t, s)
	check("after a restart")
}
