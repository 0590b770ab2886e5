package server

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/store"
)

const lateSrc = `package late

workflow Late(k: string) -> string {
  select {
    on signal Go(by: string) -> { return k + " by " + by }
    on timer 400ms -> { return k + " late" }
  }
}
`

// waitParked waits until case id is parked.
func waitParked(t *testing.T, s *Service, id string) *caseEntry {
	t.Helper()
	s.mu.Lock()
	e := s.cases[id]
	s.mu.Unlock()
	for deadline := time.Now().Add(10 * time.Second); e.parkedRec() == nil; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("case %s was not parked: %+v", id, e.summary())
		}
	}
	return e
}

// engineHolds reports whether the engine of case id's program holds it.
func engineHolds(t *testing.T, s *Service, id string) bool {
	t.Helper()
	sum, err := s.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.program(sum.Program)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.eng.Snapshot(id)
	return err == nil
}

// TestParkedRestart: a case waiting for a signal is parked (the engine
// lets go of it), a query rehydrates it and it is parked again; a
// restart reads it from the index without rebuilding it, and a signal
// then runs it to its result.
func TestParkedRestart(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	deploy(t, s)
	ctx := context.Background()
	hold := start(t, s, "Hold", `"o"`)
	waitParked(t, s, hold)
	if engineHolds(t, s, hold) {
		t.Fatal("the engine still holds a parked case")
	}
	// Its rehydration reads from the snapshot's place in the log.
	if pos := s.log.position(hold); pos.Snap == 0 || pos.Snap != pos.Last || pos.snapAt.Seq != pos.Snap {
		t.Fatalf("a parked case's position %+v: want its snapshot last, with its place", pos)
	}
	if q, err := s.Query(ctx, hold, "stage"); err != nil || string(q) != `"waiting"` {
		t.Fatalf("query of a parked case: %s %v", q, err)
	}
	waitParked(t, s, hold)
	if sum, _ := s.Get(hold); sum.Status != "running" || !sum.Idle || len(sum.Waiting) != 1 {
		t.Fatalf("parked case: %+v", sum)
	}
	closeSvc(t, s)
	s = open(t, dir)
	defer closeSvc(t, s)
	if st := s.Stats(); st.Recovered != 0 || st.Replayed != 0 || st.Scanned != 0 {
		t.Fatalf("open stats %+v, want the parked case read from the index alone", st)
	}
	if engineHolds(t, s, hold) {
		t.Fatal("a restart rebuilt a parked case")
	}
	if pos := s.log.position(hold); pos.snapAt.Seq != pos.Snap || pos.Snap == 0 {
		t.Fatalf("position after the restart %+v: want the snapshot's place from the index", pos)
	}
	if _, err := s.Signal(ctx, hold, "Approve", []byte(`"bo"`)); err != nil {
		t.Fatal(err)
	}
	if sum := wait(t, s, hold); sum.Status != "completed" || sum.Result != `"o by bo"` {
		t.Fatalf("Hold: %+v", sum)
	}
}

// TestParkedTimer: a parked case's timer wakes it, also when it comes
// due after a restart; with parking off the same cases end the same.
func TestParkedTimer(t *testing.T) {
	for _, noPark := range []bool{false, true} {
		dir := t.TempDir()
		o := Options{IndexEvery: -1, NoPark: noPark}
		s, err := Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Deploy("late.knhk", []byte(lateSrc), nil); err != nil {
			t.Fatal(err)
		}
		a := start(t, s, "Late", `"a"`)
		b := start(t, s, "Late", `"b"`)
		if !noPark {
			waitParked(t, s, a)
			waitParked(t, s, b)
		}
		if sum := wait(t, s, a); sum.Result != `"a late"` {
			t.Fatalf("noPark=%v: a: %+v", noPark, sum)
		}
		c := start(t, s, "Late", `"c"`)
		if !noPark {
			waitParked(t, s, c)
		}
		closeSvc(t, s)
		if s, err = Open(dir, o); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]string{b: `"b late"`, c: `"c late"`} {
			if sum := wait(t, s, id); sum.Status != "completed" || sum.Result != want {
				t.Fatalf("noPark=%v: %s after the restart: %+v", noPark, id, sum)
			}
		}
		closeSvc(t, s)
	}
}

// TestRecoverStaleIndex: a crash (the directory copied while the server
// runs) after the index was written: one scan of the log from the index
// on finds a parked case the tail ended, a new case the index does not
// know, and leaves a parked case the tail does not touch parked.
func TestRecoverStaleIndex(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	deploy(t, s)
	ctx := context.Background()
	a := start(t, s, "Hold", `"a"`)
	b := start(t, s, "Hold", `"b"`)
	waitParked(t, s, a)
	waitParked(t, s, b)
	if err := s.writeIndex(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Signal(ctx, a, "Approve", []byte(`"ann"`)); err != nil {
		t.Fatal(err)
	}
	wait(t, s, a)
	c := start(t, s, "Hold", `"c"`)
	waitParked(t, s, c)
	crashed := t.TempDir()
	if err := os.CopyFS(crashed, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	closeSvc(t, s)
	os.Remove(filepath.Join(crashed, "server", "LOCK"))
	s = open(t, crashed)
	defer closeSvc(t, s)
	st := s.Stats()
	if !st.FromIndex || st.Scanned == 0 || st.Parked != 1 || st.Recovered != 2 {
		t.Fatalf("open stats %+v, want the index, a tail, b parked, a and c rebuilt", st)
	}
	if sum := wait(t, s, a); sum.Status != "completed" || sum.Result != `"a by ann"` {
		t.Fatalf("a: %+v", sum)
	}
	waitParked(t, s, c)
	for id, want := range map[string]string{b: `"b by bo"`, c: `"c by bo"`} {
		if _, err := s.Signal(ctx, id, "Approve", []byte(`"bo"`)); err != nil {
			t.Fatal(err)
		}
		if sum := wait(t, s, id); sum.Result != want {
			t.Fatalf("%s: %+v", id, sum)
		}
	}
}

// TestParkedPlaceGone: a parked case whose remembered snapshot place no
// longer names its record (a compaction or repair moved the log) is
// rehydrated by reading its segment up to the snapshot instead.
func TestParkedPlaceGone(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSvc(t, s)
	deploy(t, s)
	hold := start(t, s, "Hold", `"o"`)
	waitParked(t, s, hold)
	pos := s.log.position(hold)
	seg, off := pos.snapAt.Place()
	pos.snapAt = store.PositionAt(pos.Snap, seg, off+1)
	s.log.setPosition(hold, pos)
	if q, err := s.Query(context.Background(), hold, "stage"); err != nil || string(q) != `"waiting"` {
		t.Fatalf("query after the place was lost: %s %v", q, err)
	}
}

const tickSrc = `package tick

workflow Tick(n: int) -> int {
  var i = 0
  var done = false
  while i < n {
    select {
      on signal Stop() -> { done = true }
      on timer 150ms -> { i = i + 1 }
    }
    if done {
      break
    }
  }
  return i
}
`

// TestParkedAgainAfterTimer: a case whose timer woke it and which waits
// again is parked again, each time, until it ends.
func TestParkedAgainAfterTimer(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSvc(t, s)
	if _, err := s.Deploy("tick.knhk", []byte(tickSrc), nil); err != nil {
		t.Fatal(err)
	}
	id := start(t, s, "Tick", "3")
	e := waitParked(t, s, id)
	first := e.parkedRec()
	// Parked again with a new record after the first timer woke it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if pk := e.parkedRec(); pk != nil && pk != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("case %s was not parked again after its timer: %+v", id, e.summary())
		}
	}
	if sum := wait(t, s, id); sum.Status != "completed" || sum.Result != "3" {
		t.Fatalf("Tick: %+v", sum)
	}
}
