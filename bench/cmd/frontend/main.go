// Command frontend compares the KNHK front end (parse and check) with Go's
// (go/parser and go/types) on generated programs of the same line count.
//
//	go run ./bench/cmd/frontend [-lines 100000] [-runs 5]
//
// It runs each front end several times in one process and prints the
// median lines per second of each and their ratio, then measures the peak
// memory of one KNHK run in a child process of its own, so that the Go
// measurement and the benchmark's own data do not inflate it. Nothing here
// fails on time: the targets (ratio at least 0.5, peak under 1 GiB) are
// printed for a person to read.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/knhk/knhk/bench"
)

func main() {
	lines := flag.Int("lines", bench.DefaultLines, "size of each generated program in lines")
	runs := flag.Int("runs", 5, "timed runs of each front end")
	child := flag.Bool("child", false, "internal: run the KNHK front end once and print its memory use")
	flag.Parse()
	if err := run(*lines, *runs, *child); err != nil {
		fmt.Fprintln(os.Stderr, "frontend:", err)
		os.Exit(1)
	}
}

func run(lines, runs int, child bool) error {
	if child {
		return measureMemory(lines)
	}
	if runs < 1 {
		return fmt.Errorf("-runs must be at least 1")
	}
	ks, gs := bench.KNHK(lines), bench.Go(lines)
	kl, gl := bench.Lines(ks), bench.Lines(gs)
	gc := bench.NewGoChecker()
	if err := gc.FrontEnd(gs); err != nil { // warm the importer's export data
		return fmt.Errorf("go: %w", err)
	}
	if err := bench.FrontEndKNHK(ks); err != nil {
		return fmt.Errorf("knhk: %w", err)
	}
	var kr, pr, gr []float64
	for i := 0; i < runs; i++ {
		// Interleave so that machine noise hits all alike.
		d, err := timed(func() error { return bench.FrontEndKNHK(ks) })
		if err != nil {
			return fmt.Errorf("knhk: %w", err)
		}
		kr = append(kr, float64(kl)/d.Seconds())
		if d, err = timed(func() error { return bench.ParseKNHK(ks) }); err != nil {
			return fmt.Errorf("knhk: %w", err)
		}
		pr = append(pr, float64(kl)/d.Seconds())
		if d, err = timed(func() error { return gc.FrontEnd(gs) }); err != nil {
			return fmt.Errorf("go: %w", err)
		}
		gr = append(gr, float64(gl)/d.Seconds())
	}
	km, gm := median(kr), median(gr)
	fmt.Printf("knhk: %d lines, median %.0f lines/s (parse+check, %d runs)\n", kl, km, runs)
	fmt.Printf("knhk: %d lines, median %.0f lines/s (parse only, %d runs)\n", kl, median(pr), runs)
	fmt.Printf("go:   %d lines, median %.0f lines/s (go/parser+go/types, %d runs)\n", gl, gm, runs)
	fmt.Printf("ratio knhk/go: %.2f (target >= 0.50)\n", km/gm)

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "-child", "-lines", strconv.Itoa(lines))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("memory child: %w", err)
	}
	os.Stdout.Write(out)
	return nil
}

func timed(f func() error) (time.Duration, error) {
	runtime.GC()
	start := time.Now()
	err := f()
	return time.Since(start), err
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// measureMemory runs the KNHK front end once in this (child) process and
// prints the Go heap statistics and the peak resident set size.
func measureMemory(lines int) error {
	src := bench.KNHK(lines)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := bench.FrontEndKNHK(src); err != nil {
		return fmt.Errorf("knhk: %w", err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	hwm, err := peakRSS()
	if err != nil {
		return err
	}
	const mib = 1 << 20
	fmt.Printf("knhk peak memory (%d lines, one run, own process): VmHWM %.1f MiB, HeapSys %.1f MiB, TotalAlloc %.1f MiB (target VmHWM < 1024 MiB)\n",
		bench.Lines(src), float64(hwm)/mib, float64(after.HeapSys)/mib, float64(after.TotalAlloc-before.TotalAlloc)/mib)
	return nil
}

// peakRSS reads VmHWM, the peak resident set size, from /proc/self/status.
func peakRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("peak RSS: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("peak RSS: no VmHWM in /proc/self/status")
}
