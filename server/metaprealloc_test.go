package server

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// appendMetas appends the metadata of cases from..to-1 to l.
func appendMetas(t testing.TB, l *metaLog, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		b, _ := json.Marshal(caseMeta{Case: fmt.Sprintf("c-%d", i), Workflow: "W", Descriptor: "d", Source: "s.knhk"})
		if err := l.append(b); err != nil {
			t.Fatal(err)
		}
	}
}

// wantMetas checks that dir's generations hold exactly cases 0..n-1.
func wantMetas(t *testing.T, dir string, n int) {
	t.Helper()
	got, err := readMetas(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d starts read, want %d", len(got), n)
	}
	for i := 0; i < n; i++ {
		if m := got[fmt.Sprintf("c-%d", i)]; m.Workflow != "W" {
			t.Fatalf("case c-%d: %+v", i, m)
		}
	}
}

// TestMetaLogPrealloc: past its first commits a meta log generation
// writes into zeros prepared ahead of its records; every start reads
// back while it runs and from the files a killed server leaves (zeros
// and all); rotating and closing cut the zeros off.
func TestMetaLogPrealloc(t *testing.T) {
	dir := t.TempDir()
	l, err := openMetaLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, metaName(l.gen))
	appendMetas(t, l, 0, metaPreallocAfter-1)
	if fi, _ := os.Stat(path); fi.Size() != l.size {
		t.Fatalf("before %d commits the file is %d bytes for %d of records", metaPreallocAfter, fi.Size(), l.size)
	}
	appendMetas(t, l, metaPreallocAfter-1, 100)
	fi, _ := os.Stat(path)
	if fi.Size() <= l.size || l.prepared != fi.Size() {
		t.Fatalf("after 100 commits the file is %d bytes for %d of records (prepared to %d): no zeros ahead", fi.Size(), l.size, l.prepared)
	}
	wantMetas(t, dir, 100)

	// A server killed now leaves the zeros: copy the files as they are.
	dead := t.TempDir()
	for _, g := range must(metaGens(dir)) {
		b, _ := os.ReadFile(filepath.Join(dir, metaName(g)))
		os.WriteFile(filepath.Join(dead, metaName(g)), b, 0o644)
	}
	wantMetas(t, dead, 100)

	old := path
	if _, err := l.rotate(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(old); fi.Size() != int64(len(must(os.ReadFile(old)))) || slices.Contains(must(os.ReadFile(old)), 0) {
		t.Fatalf("the rotated generation keeps zeros (%d bytes)", fi.Size())
	}
	appendMetas(t, l, 100, 200)
	path = filepath.Join(dir, metaName(l.gen))
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	if b := must(os.ReadFile(path)); slices.Contains(b, 0) || b[len(b)-1] != '\n' {
		t.Fatalf("the closed generation does not end with its last record (%d bytes)", len(b))
	}
	wantMetas(t, dir, 200)

	// A new server after the killed one starts a generation of its own.
	l2, err := openMetaLog(dead)
	if err != nil {
		t.Fatal(err)
	}
	appendMetas(t, l2, 100, 150)
	l2.close()
	wantMetas(t, dead, 150)
}

// TestMetaLogTornInZeros: a record a crash cut short in the prepared
// zeros (its batch never acknowledged) is skipped, and so are the zeros;
// the records before it read back.
func TestMetaLogTornInZeros(t *testing.T) {
	dir := t.TempDir()
	var b []byte
	for i := 0; i < 3; i++ {
		line, _ := json.Marshal(caseMeta{Case: fmt.Sprintf("c-%d", i), Workflow: "W"})
		b = append(append(b, line...), '\n')
	}
	b = append(b, `{"case":"c-3","workf`...)
	b = append(b, make([]byte, metaPreallocChunk)...)
	os.WriteFile(filepath.Join(dir, metaName(1)), b, 0o644)
	wantMetas(t, dir, 3)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// BenchmarkMetaLogPrealloc appends one start's metadata at a time to two
// meta logs on the test's temporary directory, one growing its file
// with every commit (fsync) and one writing into prepared zeros
// (fdatasync), alternating in 20 rounds of 200 in the same run; -v logs
// the median commit of each and their ratio.
//
//	go test ./server -run XXX -bench MetaLogPrealloc -benchtime 1x -v
func BenchmarkMetaLogPrealloc(b *testing.B) {
	open := func(prepare bool) *metaLog {
		l, err := openMetaLog(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { l.close() })
		if !prepare {
			l.prepared = -1 // as after a failed extension: grows the file
		}
		appendMetas(b, l, 0, metaPreallocAfter)
		return l
	}
	logs := [2]*metaLog{open(false), open(true)}
	line, _ := json.Marshal(caseMeta{Case: "c-1234567890abcdef", Workflow: "Order", Descriptor: "0123456789abcdef0123456789abcdef", Source: "orders.knhk"})
	for range b.N {
		var took [2][]time.Duration
		for r := range 20 {
			for k := range 2 {
				l := logs[(k+r)%2]
				for range 200 {
					t0 := time.Now()
					if err := l.append(slices.Clone(line)); err != nil {
						b.Fatal(err)
					}
					took[(k+r)%2] = append(took[(k+r)%2], time.Since(t0))
				}
			}
		}
		med := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
		grow, prep := med(took[0]), med(took[1])
		b.Logf("meta log commit, median of 4,000: growing the file (fsync) %v, into prepared zeros (fdatasync) %v: %.2fx", grow, prep, float64(prep)/float64(grow))
		b.ReportMetric(float64(prep)/float64(grow), "prepared/growing")
	}
}
