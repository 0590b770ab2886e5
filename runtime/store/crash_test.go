// This file tests recovery after SIGKILL: a child process runs a workload
// and is killed at random points, and the parent checks the log each time.

package store

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var crashSeed = flag.Uint64("crash.seed", 0, "seed for TestCrashRecovery's kill schedule (0 picks one and logs it)")

const (
	crashChildEnv = "KNHK_STORE_CRASH_CHILD"
	crashCases    = 16
	crashPerCase  = 100000 // never reached: the parent kills first
	crashKills    = 50
)

// crashPayload is the only valid payload of step n of a case; its length
// varies so frames straddle pages and batches differently.
func crashPayload(caseID string, n int) []byte {
	head := fmt.Sprintf("%s:%d:", caseID, n)
	return append([]byte(head), bytes.Repeat([]byte{byte('a' + n%26)}, (n*37)%700)...)
}

func parsePayload(p []byte) (string, int, bool) {
	parts := strings.SplitN(string(p), ":", 3)
	if len(parts) != 3 {
		return "", 0, false
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil {
		return "", 0, false
	}
	return parts[0], n, bytes.Equal(p, crashPayload(parts[0], n))
}

// crashChild is the workload the parent kills: it replays the log to find
// where each case stands, then runs the cases concurrently, printing one
// "ack SEQ CASE STEP" line per record after Append returns.
func crashChild(dir string) {
	ctx := context.Background()
	s, err := Open(dir, Options{SegmentBytes: 64 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	next := map[string]int{}
	if err := s.Scan(ctx, 1, func(r Record) error {
		c, n, ok := parsePayload(r.Payload)
		if !ok || c != r.CaseID || n != next[c] {
			return fmt.Errorf("replay: bad record %d", r.Seq)
		}
		next[c] = n + 1
		return nil
	}); err != nil {
		fmt.Fprintln(os.Stderr, "child replay:", err)
		os.Exit(3)
	}
	var outMu sync.Mutex
	ack := func(seq Seq, c string, n int) {
		line := fmt.Sprintf("ack %d %s %d\n", seq, c, n)
		outMu.Lock()
		os.Stdout.WriteString(line) // one write(2) per line: whole or absent
		outMu.Unlock()
	}
	var wg sync.WaitGroup
	for i := range crashCases {
		c := fmt.Sprintf("case%02d", i)
		wg.Go(func() {
			for n := next[c]; n < crashPerCase; {
				// Every fourth step is a batch of three records.
				k := 1
				if n%4 == 3 {
					k = 3
				}
				recs := make([]Record, k)
				for j := range recs {
					recs[j] = Record{CaseID: c, Kind: "step", Payload: crashPayload(c, n+j)}
				}
				first, err := s.AppendBatch(ctx, recs)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(3)
				}
				for j := range recs {
					ack(first+Seq(j), c, n+j)
				}
				n += k
			}
		})
	}
	wg.Wait()
	s.Close()
	os.Exit(0)
}

type ackRec struct {
	caseID string
	n      int
}

func TestCrashRecovery(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("kill schedule seed %d (rerun with -crash.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	dir := t.TempDir()
	acked := map[Seq]ackRec{}
	repairs, kills := 0, 0
	for run := range crashKills {
		killAfter := rng.IntN(400)
		if rng.IntN(8) == 0 {
			killAfter = 0 // sometimes during Open or replay
		}
		delay := time.Duration(rng.IntN(3000)) * time.Microsecond
		lines, stderr, killed := runCrashChild(t, dir, killAfter, delay)
		if killed {
			kills++
		}
		for _, l := range lines {
			var seq Seq
			var a ackRec
			if _, err := fmt.Sscanf(l, "ack %d %s %d", &seq, &a.caseID, &a.n); err != nil {
				t.Fatalf("run %d: bad child line %q", run, l)
			}
			if prev, dup := acked[seq]; dup {
				t.Fatalf("run %d: seq %d acknowledged twice (%v and %v)", run, seq, prev, a)
			}
			acked[seq] = a
		}
		if stderr != "" {
			t.Fatalf("run %d: child failed: %s", run, stderr)
		}
		if rng.IntN(3) == 0 {
			// A process kill keeps written pages; a power loss may not.
			// Tear the unacknowledged tail at a random byte so that
			// recovery also meets partial frames.
			tearUnacked(t, dir, acked, rng)
		}
		if verifyCrashDir(t, dir, acked, run) {
			repairs++
		}
	}
	if kills < crashKills {
		t.Fatalf("only %d of %d runs were killed", kills, crashKills)
	}
	t.Logf("%d kills, %d acknowledged records, %d torn tails repaired", kills, len(acked), repairs)
}

// runCrashChild starts the workload, SIGKILLs it once it has acknowledged
// killAfter records and delay has passed, and returns its complete lines.
func runCrashChild(t *testing.T, dir string, killAfter int, delay time.Duration) (lines []string, stderr string, killed bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashRecovery$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reached := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(out)
		count := 0
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "ack ") {
				lines = append(lines, l)
				if count++; count == killAfter {
					close(reached)
				}
			}
		}
	}()
	if killAfter > 0 {
		select {
		case <-reached:
		case <-readDone:
		case <-time.After(20 * time.Second):
			t.Errorf("child acknowledged fewer than %d records in 20s", killAfter)
		}
	}
	time.Sleep(delay)
	killed = cmd.Process.Kill() == nil
	<-readDone
	werr := cmd.Wait()
	if ee, ok := werr.(*exec.ExitError); ok && ee.ExitCode() == 0 {
		killed = false
	}
	if werr == nil {
		killed = false
	}
	return lines, errBuf.String(), killed
}

// tearUnacked truncates the last segment at a random offset after the end
// of the last acknowledged record, as a crash that lost unsynced pages would.
func tearUnacked(t *testing.T, dir string, acked map[Seq]ackRec, rng *rand.Rand) {
	t.Helper()
	var maxAcked Seq
	for seq := range acked {
		maxAcked = max(maxAcked, seq)
	}
	l, err := listDir(dir)
	if err != nil {
		t.Fatalf("list %s: %v", dir, err)
	}
	if len(l.segments) == 0 {
		return // killed before Open created the first segment: nothing to tear
	}
	path := filepath.Join(dir, l.segments[len(l.segments)-1])
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	safe, off := segmentDataStart, segmentDataStart
	for off < len(b) {
		r, n, err := decodeFrame(b[off:], 1<<20)
		if err != nil {
			break
		}
		off += n
		if r.Seq <= maxAcked {
			safe = off
		}
	}
	// The mark may acknowledge more than the child printed before it
	// died; those pages were synced with it, so no crash tears them.
	if m, err := readMarkFile(path, 1<<20); err == nil {
		safe = max(safe, int(m.size))
	}
	if len(b) > safe {
		if err := os.Truncate(path, int64(safe+rng.IntN(len(b)-safe))); err != nil {
			t.Fatal(err)
		}
	}
}

// verifyCrashDir reopens the directory and checks the log against what
// was acknowledged: every acknowledged record is there exactly once at its
// sequence number, sequence numbers are dense, each case's steps run 0, 1,
// 2, … with no repeat or gap, and every record present, acknowledged or
// not, is whole. It reports whether Open repaired a torn tail.
func verifyCrashDir(t *testing.T, dir string, acked map[Seq]ackRec, run int) bool {
	t.Helper()
	s, err := Open(dir, Options{SegmentBytes: 64 << 10})
	if err != nil {
		t.Fatalf("run %d: reopen after kill: %v", run, err)
	}
	defer s.Close()
	next := map[string]int{}
	var count Seq
	err = s.Scan(context.Background(), 1, func(r Record) error {
		count++
		if r.Seq != count {
			return fmt.Errorf("seq %d at position %d", r.Seq, count)
		}
		c, n, ok := parsePayload(r.Payload)
		if !ok || c != r.CaseID || r.Kind != "step" {
			return fmt.Errorf("record %d is not a whole record: %q", r.Seq, r.Payload)
		}
		if n != next[c] {
			return fmt.Errorf("record %d: %s step %d, want step %d (applied twice or lost)", r.Seq, c, n, next[c])
		}
		next[c] = n + 1
		if a, ok := acked[r.Seq]; ok && (a.caseID != c || a.n != n) {
			return fmt.Errorf("record %d is %s/%d but %s/%d was acknowledged there", r.Seq, c, n, a.caseID, a.n)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("run %d: %v", run, err)
	}
	for seq, a := range acked {
		if seq > count {
			t.Fatalf("run %d: acknowledged record %d (%s/%d) lost; log ends at %d", run, seq, a.caseID, a.n, count)
		}
	}
	return s.Report().Repaired
}
