// This file tests crash recovery end to end: a child process runs the
// crash workload over the durable store and is SIGKILLed at random
// points, restarted each time, and the parent then checks every case's
// result, fired transitions and task effects.

package durable

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/store"
)

var crashSeed = flag.Uint64("crash.seed", 0, "seed for TestCrashWorkload's kill schedule (0 picks one and logs it)")

const (
	crashChildEnv = "KNHK_DURABLE_CRASH_CHILD" // the data directory; set in the child
	crashRoundEnv = "KNHK_DURABLE_CRASH_ROUND"
	crashCases    = 16
	crashKills    = 50
)

// caseIDs names the cases of one round; a round's cases all start in the
// same child life.
func caseIDs(round int) []string {
	out := make([]string, crashCases)
	for i := range out {
		out[i] = fmt.Sprintf("r%d-case%02d", round, i)
	}
	return out
}

// crashChild runs round's cases to completion, starting those the log
// does not have and recovering the others, and exits 0; any error exits
// 3. It prints "ready" once the store is open.
func crashChild(dir string, round int) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	ctx := context.Background()
	p, err := compile(crashSource)
	if err != nil {
		fail(err)
	}
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{SegmentBytes: 64 << 10})
	if err != nil {
		fail(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "effects"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fail(err)
	}
	known := map[string]bool{}
	if err := st.Scan(ctx, 0, func(r store.Record) error { known[r.CaseID] = true; return nil }); err != nil {
		fail(err)
	}
	e, err := newEngine(p, crashRegistry(&effectLog{f: f}), engine.StoreLog{Store: st})
	if err != nil {
		fail(err)
	}
	os.Stdout.WriteString("ready\n")
	var wg sync.WaitGroup
	errs := make(chan error, crashCases)
	for _, id := range caseIDs(round) {
		wg.Go(func() {
			var err error
			if known[id] {
				err = e.Recover(ctx, id)
			} else {
				err = e.Start(ctx, id, "W", []any{id})
			}
			if err == nil {
				var s *engine.State
				if s, err = finish(ctx, e, id); err == nil && s.Status != engine.Completed {
					err = fmt.Errorf("case %s ended %v: %s", id, s.Status, s.Error)
				}
			}
			if err != nil {
				errs <- fmt.Errorf("case %s: %w", id, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fail(err)
	}
	if err := st.Close(); err != nil {
		fail(err)
	}
	os.Exit(0)
}

// life is one run of the child: it kills it delay after it reports ready
// (never, for a negative delay) and says whether the kill hit a running
// child.
func life(t *testing.T, dir string, round int, delay time.Duration) (killed bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWorkload$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashRoundEnv+"="+strconv.Itoa(round))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(out)
	line, _ := rd.ReadString('\n')
	if line == "ready\n" && delay >= 0 {
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
	}
	go func() { _, _ = rd.WriteTo(discard{}) }()
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
	}
	if err != nil {
		t.Fatalf("round %d: child failed: %v\n%s", round, err, stderr.String())
	}
	return false
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestCrashWorkload(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		round, _ := strconv.Atoi(os.Getenv(crashRoundEnv))
		crashChild(dir, round)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary 50+ times")
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -crash.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	begin := time.Now()

	// Kill lives at random points until crashKills kills hit a running
	// child. A round that completes before then is followed by another
	// with new cases in the same store, so the kills always land inside
	// a workload however fast the machine is; and the delays shrink, so
	// that a fast machine does not pile up rounds (each one costs the
	// final check time).
	kills, rounds, lives := 0, 0, 0
	maxDelay := 40 * time.Millisecond
	for kills < crashKills {
		lives++
		if life(t, dir, rounds, time.Duration(rng.Int64N(int64(maxDelay)))) {
			kills++
			continue
		}
		rounds++
		maxDelay = max(maxDelay*3/4, 2*time.Millisecond)
		if lives > 20*crashKills {
			t.Fatalf("only %d kills in %d lives", kills, lives)
		}
	}
	life(t, dir, rounds, -1) // the last round runs to completion
	rounds++
	t.Logf("%d kills over %d lives and %d rounds of %d cases in %v (delays up to %v at the end)", kills, lives, rounds, crashCases, time.Since(begin).Round(time.Millisecond), maxDelay)

	checkCrashRun(t, dir, rounds)
}

// checkCrashRun checks every case of rounds against a clean run of the
// same case in memory.
func checkCrashRun(t *testing.T, dir string, rounds int) {
	ctx := context.Background()
	p := mustCompile(t, crashSource)
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{SegmentBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	effects := readEffects(t, filepath.Join(dir, "effects"))

	// A worker that must never be called: every case is complete, so
	// recovering it replays and invokes nothing.
	durable, err := engine.New(engine.Config{Program: p, Worker: refuse{}, Log: engine.StoreLog{Store: st}})
	if err != nil {
		t.Fatal(err)
	}
	redelivered := 0
	for round := range rounds {
		for _, id := range caseIDs(round) {
			if err := durable.Recover(ctx, id); err != nil {
				t.Errorf("case %s: recover: %v", id, err)
				continue
			}
			s, _ := durable.Snapshot(id)
			if s.Status != engine.Completed || s.Result != eval.Int(crashResult(id)) {
				t.Errorf("case %s: status %v result %#v (want %d) error %q", id, s.Status, s.Result, crashResult(id), s.Error)
			}
			got, err := caseEvents(ctx, engine.StoreLog{Store: st}, id)
			if err != nil {
				t.Fatal(err)
			}
			gotT, err := transitions(durable.Machine(), id, got)
			if err != nil {
				t.Fatalf("case %s: %v", id, err)
			}
			wantT := cleanTransitions(t, id)
			if !reflect.DeepEqual(gotT, wantT) {
				t.Errorf("case %s: transitions differ from a clean run:\n got %q\nwant %q", id, gotT, wantT)
			}
			repeats, problems := checkEffects(id, effects[id])
			redelivered += repeats
			for _, p := range problems {
				t.Error(p)
			}
		}
	}
	t.Logf("%d cases checked; %d effects were delivered more than once (same key each time)", rounds*crashCases, redelivered)
}

// cleanRuns caches the transitions of a clean in-memory run by the
// length of the case id (the only thing that varies between cases).
var cleanRuns sync.Map

func cleanTransitions(t *testing.T, id string) []string {
	if v, ok := cleanRuns.Load(len(id)); ok {
		return v.([]string)
	}
	r := cleanRun(t, id)
	cleanRuns.Store(len(id), r.tr)
	return r.tr
}

// clean is a clean run of one case: its engine, events, transitions and
// the file its effects went to.
type clean struct {
	e       *engine.Engine
	events  []*engine.Event
	tr      []string
	effects string
}

// cleanRun runs case id of crashSource to completion in memory, with the
// real worker writing its effects to a file of the run's own.
func cleanRun(t *testing.T, id string) clean {
	t.Helper()
	ctx := context.Background()
	p := mustCompile(t, crashSource)
	path := filepath.Join(t.TempDir(), "effects")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	log := engine.NewMemLog()
	e, err := newEngine(p, crashRegistry(&effectLog{f: f}), log)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx, id, "W", []any{id}); err != nil {
		t.Fatal(err)
	}
	s, err := finish(ctx, e, id)
	if err != nil || s.Status != engine.Completed || s.Result != eval.Int(crashResult(id)) {
		t.Fatalf("clean run: %v, status %v result %#v", err, s.Status, s.Result)
	}
	events, err := caseEvents(ctx, log, id)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transitions(e.Machine(), id, events)
	if err != nil {
		t.Fatal(err)
	}
	return clean{e: e, events: events, tr: tr, effects: path}
}

// refuse is a worker for cases that must not call anything.
type refuse struct{}

func (refuse) Invoke(_ context.Context, inv engine.Invocation) (eval.Value, error) {
	return eval.Value{}, fmt.Errorf("completed case %s invoked %s again", inv.CaseID, inv.Transition)
}

// effect is one line of the effect log.
type effect struct{ label, key string }

func readEffects(t *testing.T, path string) map[string][]effect {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]effect{}
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("effect line %d is torn: %q", i+1, line)
		}
		out[f[0]] = append(out[f[0]], effect{f[1], f[2]})
	}
	return out
}

// checkEffects checks that every expected effect of case id happened at
// least once, that repeats carry the same idempotency key, that no two
// effects share a key, and that nothing else happened. It returns how
// many deliveries were repeats and what is wrong.
func checkEffects(id string, got []effect) (repeats int, problems []string) {
	keyOf := map[string]string{}
	labelOf := map[string]string{}
	for _, e := range got {
		if k, ok := keyOf[e.label]; ok {
			repeats++
			if k != e.key {
				problems = append(problems, fmt.Sprintf("case %s: effect %s delivered with keys %s and %s", id, e.label, k, e.key))
			}
			continue
		}
		if l, ok := labelOf[e.key]; ok && l != e.label {
			problems = append(problems, fmt.Sprintf("case %s: effects %s and %s share key %s", id, l, e.label, e.key))
		}
		keyOf[e.label], labelOf[e.key] = e.key, e.label
	}
	want := crashEffects()
	for _, l := range want {
		if _, ok := keyOf[l]; !ok {
			problems = append(problems, fmt.Sprintf("case %s: effect %s never happened", id, l))
		}
	}
	if len(keyOf) != len(want) {
		problems = append(problems, fmt.Sprintf("case %s: %d distinct effects, want %d: %v", id, len(keyOf), len(want), keyOf))
	}
	return repeats, problems
}
