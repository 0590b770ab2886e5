package tenant

// This file traces a noisy neighbour benchmark, to find where the
// quiet tenant's slow cases come from. KNHK_FAIR_TRACE=FILE (through the
// audited front) records every quiet case (client side: when it began,
// how long it took, how long the quiet client had paused before it) and
// every call the server answered (whose, which method, when it
// arrived, how long the server held it, its HTTP status), each under
// the condition whose block was running; writes them to FILE as CSV;
// and prints, per condition, what the quiet cases overlapping one of
// the neighbour's admitted calls cost against the others, what the
// first case after a pause cost, and the server's share of a quiet
// case. KNHK_FAIR_CONDS=rate10,rate50 runs only the conditions named
// (alone always runs), for a quicker look or a profile of one.

import (
	"fmt"
	"net/http"
	"os"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"time"
)

type fairTrace struct {
	path string
	t0   time.Time
	mu   sync.Mutex
	cond string
	end  time.Duration // the last quiet case's end
	rows []traceRow
}

// traceRow is a quiet case (who "quiet") or a call the server answered.
type traceRow struct {
	cond, who, method string
	at, d             time.Duration // from the trace's start
	status            int
	pause             time.Duration // a quiet case's pause before it
	gcs               int           // collections completed during a quiet case
}

// newFairTrace returns the trace KNHK_FAIR_TRACE asks for, nil when none.
func newFairTrace() *fairTrace {
	p := os.Getenv("KNHK_FAIR_TRACE")
	if p == "" {
		return nil
	}
	return &fairTrace{path: p, t0: time.Now(), cond: "warm"}
}

// at names the condition whose block runs from now on, and returns
// the one it replaces.
func (t *fairTrace) at(cond string) string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	prev := t.cond
	t.cond = cond
	return prev
}

// gcs is the process's garbage collections so far (runtime/metrics,
// which stops nothing), 0 without a trace.
func (t *fairTrace) gcs() uint64 {
	if t == nil {
		return 0
	}
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// quiet records a quiet case that began at start, with gc0 collections
// before it (gcs), and took d.
func (t *fairTrace) quiet(start time.Time, d time.Duration, gc0 uint64) {
	if t == nil {
		return
	}
	at := start.Sub(t.t0)
	gcs := t.gcs() - gc0
	t.mu.Lock()
	t.rows = append(t.rows, traceRow{cond: t.cond, who: "quiet", method: "case", at: at, d: d, pause: at - t.end, gcs: int(gcs)})
	t.end = at + d
	t.mu.Unlock()
}

// lead notes a quiet case that is not counted (a block's lead-in): the
// next counted one follows it without a pause.
func (t *fairTrace) lead(start time.Time, d time.Duration) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.end = start.Sub(t.t0) + d
	t.mu.Unlock()
}

// wrap records every call h answers; who names its caller.
func (t *fairTrace) wrap(h http.Handler, who func(*http.Request) string) http.Handler {
	if t == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		t0 := time.Now()
		h.ServeHTTP(sw, r)
		d := time.Since(t0)
		m := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		t.mu.Lock()
		t.rows = append(t.rows, traceRow{cond: t.cond, who: who(r), method: m, at: t0.Sub(t.t0), d: d, status: sw.status})
		t.mu.Unlock()
	})
}

// overlapPad is how long after its answer a neighbour's admitted start
// is counted as running: its case goes on (the engine, its commit).
const overlapPad = 3 * time.Millisecond

// finish writes the trace's rows to its file and returns what they show.
func (t *fairTrace) finish() (string, error) {
	if t == nil {
		return "", nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var csv strings.Builder
	csv.WriteString("cond,who,method,at_us,d_us,status,pause_us,gcs\n")
	for _, r := range t.rows {
		fmt.Fprintf(&csv, "%s,%s,%s,%d,%d,%d,%d,%d\n", r.cond, r.who, r.method, r.at.Microseconds(), r.d.Microseconds(), r.status, r.pause.Microseconds(), r.gcs)
	}
	if err := os.WriteFile(t.path, []byte(csv.String()), 0o644); err != nil {
		return "", err
	}
	// The neighbours' admitted calls, by start, as spans.
	type span struct{ from, to time.Duration }
	var busy []span
	for _, r := range t.rows {
		if r.who != "quiet" && r.who != "beta" && r.status == http.StatusOK {
			busy = append(busy, span{r.at, r.at + r.d + overlapPad})
		}
	}
	slices.SortFunc(busy, func(a, b span) int { return int(a.from - b.from) })
	overlaps := func(from, to time.Duration) bool {
		i, _ := slices.BinarySearchFunc(busy, from-time.Second, func(s span, t time.Duration) int { return int(s.from - t) })
		for ; i < len(busy) && busy[i].from <= to; i++ {
			if busy[i].to >= from {
				return true
			}
		}
		return false
	}
	type lats struct{ all, over, clear, paused, start, wait []time.Duration }
	by := map[string]*lats{}
	var conds []string
	get := func(c string) *lats {
		if by[c] == nil {
			by[c] = &lats{}
			conds = append(conds, c)
		}
		return by[c]
	}
	for _, r := range t.rows {
		switch {
		case r.who == "quiet":
			l := get(r.cond)
			l.all = append(l.all, r.d)
			if r.pause > 50*time.Millisecond {
				l.paused = append(l.paused, r.d)
			} else if overlaps(r.at, r.at+r.d) {
				l.over = append(l.over, r.d)
			} else {
				l.clear = append(l.clear, r.d)
			}
		case r.who == "beta" && r.method == "StartCase":
			get(r.cond).start = append(get(r.cond).start, r.d)
		case r.who == "beta" && r.method == "WaitCase":
			get(r.cond).wait = append(get(r.cond).wait, r.d)
		}
	}
	q := func(v []time.Duration) string {
		if len(v) == 0 {
			return "-"
		}
		s := slices.Sorted(slices.Values(v))
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		return fmt.Sprintf("n %d p50 %.2f p99 %.2f ms", len(s), ms(s[len(s)/2]), ms(s[len(s)*99/100]))
	}
	var out strings.Builder
	fmt.Fprintf(&out, "trace (%s): the quiet cases of each condition, client side, and the server's share of them\n", t.path)
	for _, c := range conds {
		l := by[c]
		if len(l.all) == 0 { // a lead-in: the server's calls only
			fmt.Fprintf(&out, "  %-9s server: StartCase %s, WaitCase %s\n", c, q(l.start), q(l.wait))
			continue
		}
		fmt.Fprintf(&out, "  %-9s all: %s\n", c, q(l.all))
		fmt.Fprintf(&out, "            first after a pause over 50 ms: %s\n", q(l.paused))
		fmt.Fprintf(&out, "            overlapping a neighbour's admitted call (+%v): %s (%.1f%%); the others: %s\n", overlapPad, q(l.over), 100*float64(len(l.over))/float64(max(1, len(l.all))), q(l.clear))
		fmt.Fprintf(&out, "            server: StartCase %s, WaitCase %s\n", q(l.start), q(l.wait))
	}
	return out.String(), nil
}

// fairConds keeps the conditions KNHK_FAIR_CONDS names (all when unset).
func fairConds(cs []fairCond) []fairCond {
	names := os.Getenv("KNHK_FAIR_CONDS")
	if names == "" {
		return cs
	}
	want := strings.Split(names, ",")
	return slices.DeleteFunc(cs, func(c fairCond) bool { return !slices.Contains(want, c.name) })
}
