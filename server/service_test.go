package server

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const holdSrc = `package wait

workflow Hold(id: string) -> string {
  var stage = "waiting"
  query stage -> string = stage
  select {
    on signal Approve(by: string) -> { return id + " by " + by }
    on timer 48h -> { fail "nobody approved" }
  }
}

workflow Inc(n: int) -> int {
  return n + 1
}

workflow Nap(n: int) -> int {
  time.sleep(300ms)
  return n * 2
}
`

func open(t *testing.T, dir string) *Service {
	t.Helper()
	s, err := Open(dir, Options{IndexEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func closeSvc(t *testing.T, s *Service) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func deploy(t *testing.T, s *Service) *Program {
	t.Helper()
	src := strings.Replace(holdSrc, "package wait\n", "package wait\n\nimport \"std/time\"\n", 1)
	r, err := s.Deploy("hold.knhk", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.Program
}

// start starts workflow with input (JSON) and returns the case's id.
func start(t *testing.T, s *Service, workflow, input string) string {
	t.Helper()
	id, _, err := s.Start(context.Background(), StartRequest{Workflow: workflow, Input: []byte(input)})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func wait(t *testing.T, s *Service, id string) Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sum, done, err := s.Wait(ctx, id, false)
	if err != nil || !done {
		t.Fatalf("wait %s: %v %v %+v", id, done, err, sum)
	}
	return sum
}

// waitFor polls case id's summary until ok holds (a started case runs on
// after Start returns).
func waitFor(t *testing.T, s *Service, id string, ok func(Summary) bool) Summary {
	t.Helper()
	for range 500 {
		sum, err := s.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(sum) {
			return sum
		}
		time.Sleep(10 * time.Millisecond)
	}
	sum, _ := s.Get(id)
	t.Fatalf("case %s never got there: %+v", id, sum)
	return sum
}

func TestStartSignalQueryRestart(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	deploy(t, s)
	ctx := context.Background()

	id := start(t, s, "Inc", `41`)
	if sum := wait(t, s, id); sum.Status != "completed" || sum.Result != "42" {
		t.Fatalf("Inc: %+v", sum)
	}

	hold, _, err := s.Start(ctx, StartRequest{Workflow: "Hold", Input: []byte(`"o-1"`), Request: "r1", Key: "order o-1"})
	if err != nil {
		t.Fatal(err)
	}
	again, existing, err := s.Start(ctx, StartRequest{Workflow: "Hold", Input: []byte(`"o-1"`), Request: "r1"})
	if err != nil || again != hold || !existing {
		t.Fatalf("retried start: %s %v %v, want %s", again, existing, err, hold)
	}
	sum := waitFor(t, s, hold, func(s Summary) bool { return len(s.Waiting) > 0 })
	if sum.Status != "running" || len(sum.Waiting) != 1 || sum.Waiting[0] != "Approve" {
		t.Fatalf("Hold: %+v", sum)
	}
	if q, err := s.Query(ctx, hold, "stage"); err != nil || string(q) != `"waiting"` {
		t.Fatalf("query: %s %v", q, err)
	}
	// A restart: the waiting case comes back from the index, rebuilt or
	// parked depending on whether it was parked before the close.
	closeSvc(t, s)
	s = open(t, dir)
	defer closeSvc(t, s)
	if st := s.Stats(); !st.FromIndex || st.Scanned != 0 || st.Recovered+st.Parked != 1 || st.Cases != 2 {
		t.Fatalf("open stats %+v", st)
	}
	if _, existing, err := s.Start(ctx, StartRequest{Workflow: "Hold", Input: []byte(`"o-2"`), Key: "order o-1"}); err != nil || !existing {
		t.Fatalf("start with a known business key after a restart: %v %v", existing, err)
	}
	if _, err := s.Signal(ctx, hold, "Approve", []byte(`"ann"`)); err != nil {
		t.Fatal(err)
	}
	if sum := wait(t, s, hold); sum.Status != "completed" || sum.Result != `"o-1 by ann"` {
		t.Fatalf("Hold after the signal: %+v", sum)
	}
	if q, err := s.Query(ctx, hold, ""); err != nil || string(q) != `{"stage":"waiting"}` {
		t.Fatalf("query of an ended case: %s %v", q, err)
	}
	list, _, err := s.List(ListRequest{KeyContains: "o-1"})
	if err != nil || len(list) != 1 || list[0].ID != hold {
		t.Fatalf("list: %+v %v", list, err)
	}
}

func TestTimerSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	deploy(t, s)
	id := start(t, s, "Nap", `21`)
	closeSvc(t, s) // before the timer is due
	s = open(t, dir)
	defer closeSvc(t, s)
	if sum := wait(t, s, id); sum.Status != "completed" || sum.Result != "42" {
		t.Fatalf("Nap after a restart: %+v", sum)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer closeSvc(t, s)
	ctx := context.Background()
	_, err := s.Deploy("bad.knhk", []byte("package p\n\nworkflow W() -> int {\n  return nope\n}\n"), nil)
	if e, ok := err.(*Error); !ok || e.Code != CodeInvalidArgument || len(e.Diags) == 0 || !strings.HasPrefix(e.Message, "bad.knhk:4:") {
		t.Fatalf("deploy of a bad source: %#v", err)
	}
	deploy(t, s)
	for _, c := range []struct {
		req   StartRequest
		code  Code
		field string
		msg   string
	}{
		{StartRequest{Workflow: "Nope"}, CodeNotFound, "workflow", "no deployed program declares workflow Nope"},
		{StartRequest{Workflow: "Inc", Input: []byte(`"x"`)}, CodeInvalidArgument, "input_json", "bad input for Inc"},
		{StartRequest{Workflow: "Inc", Program: "ffff"}, CodeNotFound, "program", "no deployed program ffff"},
		{StartRequest{}, CodeInvalidArgument, "workflow", "name the workflow"},
	} {
		_, _, err := s.Start(ctx, c.req)
		e, ok := err.(*Error)
		if !ok || e.Code != c.code || e.Field != c.field || !strings.Contains(e.Message, c.msg) {
			t.Errorf("start %+v: %#v, want code %d field %s %q", c.req, err, c.code, c.field, c.msg)
		}
	}
	if list, _, _ := s.List(ListRequest{}); len(list) != 0 {
		t.Fatalf("bad starts left cases: %+v", list)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "cases")); len(ents) != 0 {
		t.Fatalf("bad starts left metadata: %v", ents)
	}
	if _, err := s.Signal(ctx, "c-0000", "Approve", nil); CodeOf(err) != CodeNotFound {
		t.Fatalf("signal of an unknown case: %v", err)
	}
	id := start(t, s, "Hold", `"o"`)
	if _, err := s.Signal(ctx, id, "Approve", []byte(`7`)); CodeOf(err) != CodeInvalidArgument || !strings.Contains(err.Error(), "bad payload for signal Approve") {
		t.Fatalf("mistyped payload: %v", err)
	}
	if _, err := s.Signal(ctx, id, "Nope", nil); CodeOf(err) != CodeInvalidArgument || !strings.Contains(err.Error(), "has no signal Nope (it accepts: Approve)") {
		t.Fatalf("unknown signal: %v", err)
	}
	if sum, err := s.Cancel(ctx, id); err != nil || sum.Status != "cancelled" {
		t.Fatalf("cancel: %+v %v", sum, err)
	}
	if _, err := s.Signal(ctx, id, "Approve", []byte(`"x"`)); CodeOf(err) != CodeFailedPrecondition {
		t.Fatalf("signal of a cancelled case: %v", err)
	}
}

// TestDrainSnapshot: a case waiting since before many others ran is
// rebuilt after a drain from the snapshot Close wrote, not by reading
// the log from where it started (with parking off: a parked case is not
// rebuilt at all, see TestParkedRestart).
func TestDrainSnapshot(t *testing.T) {
	dir := t.TempDir()
	o := Options{IndexEvery: -1, NoPark: true}
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	deploy(t, s)
	ctx := context.Background()
	hold := start(t, s, "Hold", `"o"`)
	for i := range 50 {
		id, _, err := s.Start(ctx, StartRequest{Workflow: "Inc", Input: []byte(strconv.Itoa(i))})
		if err != nil {
			t.Fatal(err)
		}
		wait(t, s, id)
	}
	closeSvc(t, s)
	if s, err = Open(dir, o); err != nil {
		t.Fatal(err)
	}
	defer closeSvc(t, s)
	if st := s.Stats(); st.Scanned != 0 || st.Recovered != 1 || st.Replayed != 1 {
		t.Fatalf("open stats %+v, want the one live case rebuilt from one record", st)
	}
	if _, err := s.Signal(ctx, hold, "Approve", []byte(`"bo"`)); err != nil {
		t.Fatal(err)
	}
	if sum := wait(t, s, hold); sum.Result != `"o by bo"` {
		t.Fatalf("Hold: %+v", sum)
	}
}

// TestVersions: a case keeps the program it started with when a new
// version of its workflow is deployed; later starts take the new one.
func TestVersions(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSvc(t, s)
	ctx := context.Background()
	v1 := deploy(t, s)
	old := start(t, s, "Hold", `"o"`)
	src2 := strings.Replace(holdSrc, `return id + " by " + by`, `return id + " approved by " + by`, 1)
	r, err := s.Deploy("hold.knhk", []byte(strings.Replace(src2, "package wait\n", "package wait\n\nimport \"std/time\"\n", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Deploy("hold.knhk", []byte(strings.Replace(src2, "package wait\n", "package wait\n\nimport \"std/time\"\n", 1)), nil); again.Program != r.Program {
		t.Fatal("deploying the same source twice made two versions")
	}
	if ps := s.Programs(); len(ps) != 2 || ps[0].Hash != r.Program.Hash || ps[1].Hash != v1.Hash {
		t.Fatalf("programs %v", ps)
	}
	cur := start(t, s, "Hold", `"n"`)
	waitFor(t, s, old, func(s Summary) bool { return s.Idle })
	waitFor(t, s, cur, func(s Summary) bool { return s.Idle })
	for id, want := range map[string]string{old: `"o by ann"`, cur: `"n approved by ann"`} {
		if _, err := s.Signal(ctx, id, "Approve", []byte(`"ann"`)); err != nil {
			t.Fatal(err)
		}
		if sum := wait(t, s, id); sum.Result != want {
			t.Errorf("case %s: %+v, want %s", id, sum, want)
		}
	}
	old1, _, _ := s.Start(ctx, StartRequest{Workflow: "Hold", Program: v1.Hash, Input: []byte(`"p"`)})
	if sum, _ := s.Get(old1); sum.Program != v1.Hash {
		t.Fatalf("a start naming version 1 ran %s", sum.Program)
	}
}

// TestDeployKnownProgram: a program the Service loaded for a running
// case (knhk run started it, so no deploy listed it) is listed once it
// is deployed.
func TestDeployKnownProgram(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	deploy(t, s)
	if _, _, err := s.Start(context.Background(), StartRequest{Workflow: "Hold", Input: []byte(`"o"`)}); err != nil {
		t.Fatal(err)
	}
	closeSvc(t, s)
	if err := os.Remove(filepath.Join(dir, "server", "programs.json")); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer closeSvc(t, s)
	if ps := s.Programs(); len(ps) != 0 {
		t.Fatalf("programs before the deploy: %v", ps)
	}
	p := deploy(t, s)
	if ps := s.Programs(); len(ps) != 1 || ps[0] != p {
		t.Fatalf("programs after the deploy: %v", ps)
	}
	if _, _, err := s.Start(context.Background(), StartRequest{Workflow: "Inc", Input: []byte("1")}); err != nil {
		t.Fatal(err)
	}
}

// TestSignalOnce: a signal retried with its request id is delivered
// once, also after a restart and after it ended the case.
func TestSignalOnce(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	deploy(t, s)
	ctx := context.Background()
	id := start(t, s, "Hold", `"o"`)
	if _, err := s.SignalOnce(ctx, id, "Approve", []byte(`"ann"`), "sig-1"); err != nil {
		t.Fatal(err)
	}
	if sum := wait(t, s, id); sum.Result != `"o by ann"` {
		t.Fatalf("%+v", sum)
	}
	closeSvc(t, s)
	s = open(t, dir)
	defer closeSvc(t, s)
	// The retry finds the case ended by that very signal: success.
	if sum, err := s.SignalOnce(ctx, id, "Approve", []byte(`"ann"`), "sig-1"); err != nil || sum.Result != `"o by ann"` {
		t.Fatalf("retried signal: %+v %v", sum, err)
	}
	if _, err := s.SignalOnce(ctx, id, "Approve", []byte(`"bo"`), "sig-2"); CodeOf(err) != CodeFailedPrecondition {
		t.Fatalf("another signal to the ended case: %v", err)
	}
	if _, err := s.SignalOnce(ctx, id, "Approve", nil, "a/send/1"); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("a request id with /send/: %v", err)
	}
	h, _, _ := s.History(ctx, id, 0, 100, true)
	n := 0
	for _, e := range h {
		if e.Kind == "signal" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d signal entries", n)
	}
}

const failSrc = `package f

workflow Check(n: int) -> int {
  guard n > 0 else fail "n must be positive"
  return n
}
`

// TestFailurePosition: a failed case says where it failed in the
// deployed source, also after a restart.
func TestFailurePosition(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if _, err := s.Deploy("f.knhk", []byte(failSrc), nil); err != nil {
		t.Fatal(err)
	}
	id := start(t, s, "Check", `-1`)
	sum := wait(t, s, id)
	want := SourceRange{File: "f.knhk", Line: 4, Column: 3}
	if sum.Status != "failed" || sum.Error != "case "+id+" failed: n must be positive" || sum.ErrorAt == nil ||
		sum.ErrorAt.File != want.File || sum.ErrorAt.Line != want.Line {
		t.Fatalf("%+v %+v", sum, sum.ErrorAt)
	}
	first := *sum.ErrorAt
	closeSvc(t, s)
	s = open(t, dir)
	defer closeSvc(t, s)
	if sum, _ := s.Get(id); sum.ErrorAt == nil || *sum.ErrorAt != first {
		t.Fatalf("after a restart: %+v", sum)
	}
	// A case of the reloaded program fails with its position too.
	id2 := start(t, s, "Check", `0`)
	if sum := wait(t, s, id2); sum.ErrorAt == nil || *sum.ErrorAt != first {
		t.Fatalf("a case of the reloaded program: %+v", sum)
	}
}

// TestStartRetryAfterTimeout: a start whose caller gave up before the
// acknowledgement still starts the case once; the retry with the same
// request id returns it. (The case was once started with an empty id:
// the driver read Start's named result after the early return reset it.)
func TestStartRetryAfterTimeout(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSvc(t, s)
	deploy(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the caller's deadline has passed
	_, _, err := s.Start(ctx, StartRequest{Workflow: "Hold", Input: []byte(`"o"`), Request: "r-9"})
	if err != nil && CodeOf(err) != CodeDeadlineExceeded {
		t.Fatalf("a start past its deadline: %v", err)
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer rcancel()
	id, existing, err := s.Start(rctx, StartRequest{Workflow: "Hold", Input: []byte(`"o"`), Request: "r-9"})
	if err != nil || !existing {
		t.Fatalf("the retry: %s %v %v", id, existing, err)
	}
	if list, _, _ := s.List(ListRequest{}); len(list) != 1 || list[0].ID != id {
		t.Fatalf("cases: %+v", list)
	}
}

// TestIndexLoop: the index is written while the log grows, and not
// rewritten while nothing happens.
func TestIndexLoop(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{IndexEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer closeSvc(t, s)
	deploy(t, s)
	id := start(t, s, "Inc", `1`)
	wait(t, s, id)
	path := s.indexPath()
	var fi os.FileInfo
	for range 200 {
		if fi, err = os.Stat(path); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if fi == nil {
		t.Fatal("no index was written while the log grew")
	}
	time.Sleep(50 * time.Millisecond) // a write already under way ends
	fi, _ = os.Stat(path)
	time.Sleep(100 * time.Millisecond)
	if again, err := os.Stat(path); err != nil || !again.ModTime().Equal(fi.ModTime()) {
		t.Fatalf("the index was rewritten while nothing happened: %v", err)
	}
}
