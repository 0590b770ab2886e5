// This file tests the case commands (signal, query, cases, history,
// export) end to end on a data directory written by knhk run.

package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/export"
)

// holdSource is a workflow that waits for a signal or a timer of TIMER.
const holdSource = `package hold

task note(id: string) -> string exec "sh" "-c" "cat >/dev/null; echo '\"noted\"'"

workflow Hold(id: string) -> string {
  var stage = "new"
  query progress -> string = stage
  let n = note(id)
  stage = "noted " + id
  select {
    on signal Approve(by: string) -> { return n + " by " + by }
    on timer TIMER -> { fail "nobody approved" }
  }
}
`

type caseFixture struct {
	t    *testing.T
	dir  string
	data string
	file string
}

func newFixture(t *testing.T, timer string) *caseFixture {
	dir := t.TempDir()
	f := &caseFixture{t: t, dir: dir, data: filepath.Join(dir, "data"), file: filepath.Join(dir, "hold.knhk")}
	f.write(strings.Replace(holdSource, "TIMER", timer, 1))
	return f
}

func (f *caseFixture) write(src string) {
	f.t.Helper()
	if err := os.WriteFile(f.file, []byte(src), 0o666); err != nil {
		f.t.Fatal(err)
	}
}

// knhk runs a command and returns its exit code, stdout and stderr.
func (f *caseFixture) knhk(args ...string) (int, string, string) {
	var out, errb strings.Builder
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	code := run(e, args)
	return code, out.String(), errb.String()
}

var caseIDRE = regexp.MustCompile(`(?m)^case (c-[0-9a-f]{16}) is waiting for signal Approve$`)

// start runs Hold and returns the id of the waiting case.
func (f *caseFixture) start(input string) string {
	f.t.Helper()
	code, _, stderr := f.knhk("run", "--data", f.data, "--input-json", input, f.file)
	m := caseIDRE.FindStringSubmatch(stderr)
	if code != exitOK || m == nil {
		f.t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	return m[1]
}

// logBytes returns the contents of the log segments, to check that a
// refused command appended nothing.
func (f *caseFixture) logBytes() string {
	f.t.Helper()
	names, err := filepath.Glob(filepath.Join(f.data, "*.log"))
	if err != nil || len(names) == 0 {
		f.t.Fatalf("no log segments in %s: %v", f.data, err)
	}
	var b strings.Builder
	for _, n := range names {
		c, err := os.ReadFile(n)
		if err != nil {
			f.t.Fatal(err)
		}
		b.WriteString(n)
		b.Write(c)
	}
	return b.String()
}

func (f *caseFixture) mustFail(wantErr string, args ...string) {
	f.t.Helper()
	before := f.logBytes()
	code, stdout, stderr := f.knhk(args...)
	if code != exitUser || stdout != "" || !strings.Contains(stderr, wantErr) {
		f.t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 and %q", strings.Join(args, " "), code, stdout, stderr, wantErr)
	}
	if f.logBytes() != before {
		f.t.Errorf("%s changed the log", strings.Join(args, " "))
	}
}

func TestSignalQueryHistory(t *testing.T) {
	f := newFixture(t, "1h")
	id := f.start(`"o-1"`)

	code, out, stderr := f.knhk("query", "--data", f.data, id)
	if code != exitOK || out != `{"progress":"noted o-1"}`+"\n" {
		t.Errorf("query: exit %d, %q, %s", code, out, stderr)
	}
	code, out, _ = f.knhk("query", "--data", f.data, id, "progress")
	if code != exitOK || out != `"noted o-1"`+"\n" {
		t.Errorf("query progress: exit %d, %q", code, out)
	}
	code, out, _ = f.knhk("cases", "--data", f.data, "--json")
	var rows []caseRow
	if err := json.Unmarshal([]byte(out), &rows); code != exitOK || err != nil || len(rows) != 1 {
		t.Fatalf("cases --json: exit %d, %q, %v", code, out, err)
	}
	if r := rows[0]; r.ID != id || r.Status != "waiting" || r.Workflow != "Hold" || len(r.Descriptor) != 64 || strings.Join(r.Waiting, ",") != "Approve" {
		t.Errorf("cases row %+v", r)
	}
	if _, err := os.Stat(filepath.Join(f.data, "descriptors", rows[0].Descriptor+".ir")); err != nil {
		t.Errorf("descriptor not stored: %v", err)
	}

	// Bad input is an error that appends nothing.
	f.mustFail("bad payload for signal Approve: by:", "signal", "--data", f.data, id, "Approve", `{"by": 1}`)
	f.mustFail("by:", "signal", "--data", f.data, id, "Approve", `7`)
	f.mustFail("has no signal Reject", "signal", "--data", f.data, id, "Reject", `"x"`)
	f.mustFail("unknown case c-0000", "signal", "--data", f.data, "c-0000", "Approve", `"x"`)
	f.mustFail("unknown case c-0000", "query", "--data", f.data, "c-0000")
	f.mustFail("no query nope", "query", "--data", f.data, id, "nope")
	f.mustFail("unknown case c-0000", "history", "--data", f.data, "c-0000")

	// A new version of the source does not change the running case: it
	// resumes on the descriptor it started with.
	f.write(strings.Replace(strings.Replace(holdSource, "TIMER", "1h", 1), `" by "`, `" BY "`, 1))
	code, out, stderr = f.knhk("signal", "--data", f.data, id, "Approve", `{"by": "ann"}`)
	if code != exitOK || out != `"noted by ann"`+"\n" {
		t.Fatalf("signal: exit %d, %q\n%s", code, out, stderr)
	}
	f.mustFail("has ended (completed)", "signal", "--data", f.data, id, "Approve", `"bob"`)

	code, out, _ = f.knhk("history", "--data", f.data, id)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || !strings.Contains(lines[0], " start Hold") || !strings.Contains(out, " done note\n") || !strings.Contains(out, " signal Approve\n") {
		t.Errorf("history: exit %d\n%s", code, out)
	}
	code, out, _ = f.knhk("history", "--data", f.data, "--json", id)
	var hist []historyEntry
	if err := json.Unmarshal([]byte(out), &hist); code != exitOK || err != nil || len(hist) != len(lines) {
		t.Fatalf("history --json: exit %d, %v, %d entries for %d lines", code, err, len(hist), len(lines))
	}
	for i, h := range hist {
		if i > 0 && (h.Seq <= hist[i-1].Seq || h.Time < hist[i-1].Time) {
			t.Errorf("history out of order at %d: %+v", i, h)
		}
	}
	code, out, _ = f.knhk("cases", "--data", f.data)
	if code != exitOK || !regexp.MustCompile(`(?m)^`+id+` +completed +Hold `).MatchString(out) {
		t.Errorf("cases: exit %d\n%s", code, out)
	}
}

// TestTimerFiresAfterRestart: the timer is armed by one process and fires
// in a later one, once it is due.
func TestTimerFiresAfterRestart(t *testing.T) {
	f := newFixture(t, "1s")
	id := f.start(`"o-2"`)
	time.Sleep(1200 * time.Millisecond)
	code, out, stderr := f.knhk("signal", "--data", f.data, id, "Approve", `"late"`)
	if code != exitUser || out != "" || !strings.Contains(stderr, "ended before signal Approve could be delivered") || !strings.Contains(stderr, "nobody approved") {
		t.Fatalf("signal after the timer: exit %d, %q\n%s", code, out, stderr)
	}
	_, out, _ = f.knhk("history", "--data", f.data, id)
	if !strings.Contains(out, " timer ") || strings.Contains(out, " signal Approve") {
		t.Errorf("history:\n%s", out)
	}
	_, out, _ = f.knhk("cases", "--data", f.data)
	if !regexp.MustCompile(`(?m)^` + id + ` +failed `).MatchString(out) {
		t.Errorf("cases:\n%s", out)
	}
}

// TestResumeFiresTimer: resume, with no signal, fires a timer that came
// due while no process ran; a waiting case with no due timer keeps
// waiting.
func TestResumeFiresTimer(t *testing.T) {
	f := newFixture(t, "1s")
	id := f.start(`"o-3"`)
	code, _, stderr := f.knhk("resume", "--data", f.data, id)
	if code != exitOK || !strings.Contains(stderr, "case "+id+" is waiting for signal Approve") {
		t.Fatalf("early resume: exit %d\n%s", code, stderr)
	}
	time.Sleep(1200 * time.Millisecond)
	code, out, stderr := f.knhk("resume", "--data", f.data, id)
	if code != exitUser || out != "" || !strings.Contains(stderr, "nobody approved") {
		t.Fatalf("resume: exit %d, %q\n%s", code, out, stderr)
	}
	f.mustFail("has ended (failed)", "resume", "--data", f.data, id)
	f.mustFail("unknown case c-0000", "resume", "--data", f.data, "c-0000")
}

func TestExportReadBack(t *testing.T) {
	f := newFixture(t, "1h")
	a := f.start(`"o-a"`)
	b := f.start(`"o-b"`)
	if code, _, stderr := f.knhk("signal", "--data", f.data, a, "Approve", `"ann"`); code != exitOK {
		t.Fatalf("signal: %s", stderr)
	}
	xesFile := filepath.Join(f.dir, "log.xes")
	if code, _, stderr := f.knhk("export", "--data", f.data, "--xes", "-o", xesFile); code != exitOK {
		t.Fatalf("export --xes: %s", stderr)
	}
	raw, err := os.ReadFile(xesFile)
	if err != nil {
		t.Fatal(err)
	}
	// Read with encoding/xml alone, as a process-mining tool would.
	type attr struct {
		XMLName xml.Name
		Key     string `xml:"key,attr"`
		Value   string `xml:"value,attr"`
	}
	var doc struct {
		Ext []struct {
			Prefix string `xml:"prefix,attr"`
		} `xml:"extension"`
		Traces []struct {
			Attrs  []attr `xml:"string"`
			Events []struct {
				Attrs []attr `xml:",any"`
			} `xml:"event"`
		} `xml:"trace"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Ext) != 4 || len(doc.Traces) != 2 {
		t.Fatalf("%d extensions, %d traces", len(doc.Ext), len(doc.Traces))
	}
	for i, id := range []string{a, b} {
		tr := doc.Traces[i]
		if tr.Attrs[0].Key != "concept:name" || tr.Attrs[0].Value != id {
			t.Errorf("trace %d names %+v, want %s", i, tr.Attrs[0], id)
		}
		for _, ev := range tr.Events {
			keys := map[string]string{}
			for _, at := range ev.Attrs {
				keys[at.Key] = at.XMLName.Local
			}
			if keys["concept:name"] != "string" || keys["time:timestamp"] != "date" || keys["lifecycle:transition"] != "string" {
				t.Errorf("trace %d: event attributes %v", i, keys)
			}
		}
	}
	l, err := export.ReadXES(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"note/start/exec", "note/complete/exec", "signal Approve/complete/"},
		{"note/start/exec", "note/complete/exec"},
	}
	checkTraces(t, "xes", l, []string{a, b}, want)
	if l.Traces[0].Attr("workflow") != "Hold" || len(l.Traces[0].Attr("descriptor")) != 64 {
		t.Errorf("trace attributes %+v", l.Traces[0].Attrs)
	}

	code, out, stderr := f.knhk("export", "--data", f.data, "--csv", b)
	if code != exitOK {
		t.Fatalf("export --csv: %s", stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != "case_id,activity,lifecycle,timestamp,resource" || rows[1][0] != b {
		t.Fatalf("csv rows %q, %v", rows, err)
	}
	l, err = export.ReadCSV(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	checkTraces(t, "csv", l, []string{b}, want[1:])

	f.mustFail("unknown case c-0000", "export", "--data", f.data, "--csv", "c-0000")
	if code, _, _ := f.knhk("export", "--data", f.data, "--csv", "--xes"); code != exitUser {
		t.Errorf("export --csv --xes: exit %d", code)
	}
}

func checkTraces(t *testing.T, format string, l *export.Log, ids []string, want [][]string) {
	t.Helper()
	if len(l.Traces) != len(ids) {
		t.Fatalf("%s: %d traces, want %d", format, len(l.Traces), len(ids))
	}
	for i, tr := range l.Traces {
		var got []string
		for j, e := range tr.Events {
			got = append(got, e.Activity+"/"+e.Lifecycle+"/"+e.Resource)
			if j > 0 && e.Time.Before(tr.Events[j-1].Time) {
				t.Errorf("%s: trace %s: events out of time order", format, tr.Case)
			}
		}
		if tr.Case != ids[i] || strings.Join(got, " ") != strings.Join(want[i], " ") {
			t.Errorf("%s: trace %d = %s %v, want %s %v", format, i, tr.Case, got, ids[i], want[i])
		}
	}
}
