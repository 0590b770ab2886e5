package server

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/store"
)

func TestIndexLineRoundTrip(t *testing.T) {
	lines := []indexLine{
		{Summary: Summary{ID: "c-1", Workflow: "W", Program: "h1", Status: "completed", Start: 17, Result: "{\"a\":\"x\\ty\"}\n", Key: "k\t1\\", Request: "r\r"}, Pos: casePos{First: 1, Snap: 2, Last: 3}},
		{Summary: Summary{ID: "c-2", Workflow: "W2", Program: "h2", Status: "running", Waiting: []string{"A", "B"}, Idle: true}, Pending: true},
		{Summary: Summary{ID: "c-4", Workflow: "W", Program: "h1", Status: "running", Waiting: []string{"A"}, Idle: true}, Parked: true, Due: 1733000000123456789},
		{Summary: Summary{ID: "c-5", Workflow: "W", Program: "h1", Status: "running"}, Parked: true},
		{Summary: Summary{ID: "c-6", Workflow: "W", Program: "h1", Status: "running", Idle: true}, Parked: true, Pos: casePos{First: 1, Snap: 5, Last: 5, snapAt: store.PositionAt(5, 1, 2048)}},
		{Summary: Summary{ID: "c-3", Workflow: "W", Program: "h1", Status: "failed", Error: `case c-3 failed: \n is no newline`, ErrorAt: &SourceRange{File: "a:b.knhk", Line: 3, Column: 4, EndLine: 3, EndColumn: 9}}},
	}
	d := &lineDecoder{progs: []string{"h1", "h2"}, shared: map[string]string{}}
	for _, l := range lines {
		prog := 0
		if l.Program == "h2" {
			prog = 1
		}
		b := appendLine(nil, &l, prog)
		if strings.Count(string(b), "\n") != 1 {
			t.Fatalf("line %q is not one line", b)
		}
		got, err := d.decode(b[:len(b)-1])
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, l) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, l)
		}
	}
	for _, bad := range []string{"", "c\trunning", strings.Repeat("x\t", nFields), "c\trunning\t9\tW\t0\t0\t0\t0\t\t\t\t\t\t", "c\trunning\t0\tW\t0\t0\t0\t0\tizx\t\t\t\t\t\t\t", "c\trunning\t0\tW\t0\t1\t5\t5\t\t\t\t\t\t\t\t1", "c\trunning\t0\tW\t0\t1\t5\t5\t\t\t\t\t\t\t\t1:0", "c\trunning\t0\tW\t0\t1\t0\t5\t\t\t\t\t\t\t\t1:9"} {
		if _, err := d.decode([]byte(bad)); err == nil {
			t.Errorf("decoded %q", bad)
		}
	}
}

// TestDamagedIndex: an index that does not decode is not trusted; Open
// reads the whole log and has every case.
func TestDamagedIndex(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	deploy(t, s)
	id, _, err := s.Start(context.Background(), StartRequest{Workflow: "Inc", Input: []byte("1")})
	if err != nil {
		t.Fatal(err)
	}
	wait(t, s, id)
	closeSvc(t, s)
	path := s.indexPath()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, "garbage\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer closeSvc(t, s)
	if st := s.Stats(); st.FromIndex || st.Scanned == 0 {
		t.Fatalf("open stats %+v, want a full scan", st)
	}
	if sum := wait(t, s, id); sum.Result != "2" {
		t.Fatalf("case after the full scan: %+v", sum)
	}
}

// FuzzIndexLine: any line decodes or is refused without a panic, and a
// line that decodes encodes to a line that decodes to the same case.
func FuzzIndexLine(f *testing.F) {
	f.Add("c-1\trunning\t0\tW\t1\t2\t3\t4\tiz17\tGo,Stop\tk\tr\t\t\t\t1:4096")
	f.Add("c-2\tfailed\t1\tW\t0\t0\t0\t0\t\t\t\t\t\terr\t3:4:3:9:a.knhk\t")
	f.Fuzz(func(t *testing.T, line string) {
		d := &lineDecoder{progs: []string{"h1", "h2"}, shared: map[string]string{}}
		l, err := d.decode([]byte(line))
		if err != nil {
			return
		}
		prog := 0
		if l.Program == "h2" {
			prog = 1
		}
		b := appendLine(nil, &l, prog)
		again, err := d.decode(b[:len(b)-1])
		if err != nil {
			t.Fatalf("%q decoded, its encoding %q does not: %v", line, b, err)
		}
		if !reflect.DeepEqual(again, l) {
			t.Fatalf("round trip of %q:\n got %+v\nwant %+v", line, again, l)
		}
	})
}
