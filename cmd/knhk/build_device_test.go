// This file tests that binaries made by knhk build send kernel calls to
// the device KNHK_DEVICE chooses, as knhk run does, with the same
// results and errors.

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/knhk/knhk/accel"
)

// deviceKernels has kernels that succeed and one that divides by zero,
// as cmd/knhk/testdata/script/run_kernel_device.txtar.
const deviceKernels = `package scores

kernel scale(a: [f32]) -> [f32] {
  out[i] = a[i] * 2.0 + f32(i % 7)
}

kernel share(n: [i32]) -> [i32] {
  out[i] = 100 / n[i]
}

fn f32s(xs: [float]) -> [f32] = map(xs, x => f32(x))
fn i32s(xs: [float]) -> [i32] = map(xs, x => i32(x))

workflow Score(xs: [float]) -> [f32] {
  let s = scale(f32s(xs))
  let q = share(i32s(xs))
  return s
}

workflow Total(xs: [float]) -> i32 {
  return sum(share(i32s(xs)))
}

workflow Count(xs: [float]) -> i32 {
  return sum(i32s(xs))
}
`

// binRun runs a built binary in dir with env added to the environment.
func binRun(t *testing.T, dir, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

var casePrefix = regexp.MustCompile(`c-[0-9a-f]{16}`)

// TestBuiltBinaryUsesDevice builds binaries from the kernel examples and
// from deviceKernels and runs them with KNHK_DEVICE=vulkan from one
// element on: a missing loader fails the kernel call as it fails knhk
// run's (so the calls reach the runner), as does a sum, and on the
// system's device
// (lavapipe in CI) every result and every error is the interpreter's.
func TestBuiltBinaryUsesDevice(t *testing.T) {
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	root, dir := buildDir(t, map[string]string{"k.knhk": deviceKernels})
	type run struct {
		name, src string
		args      []string
	}
	var runs []run
	for _, r := range []struct{ file, workflow, input, mock string }{
		{"fraud.knhk", "", "fraud.json", "fraud.json"},
		{"etl.knhk", "Nightly", "etl.json", "etl.json"},
	} {
		args := []string{"--input", filepath.Join(examples, "inputs", r.input), "--mock", filepath.Join(examples, "mocks", r.mock)}
		if r.workflow != "" {
			args = append(args, "--workflow", r.workflow)
		}
		runs = append(runs, run{r.file, filepath.Join(examples, r.file), args})
	}
	k := filepath.Join(dir, "k.knhk")
	runs = append(runs,
		run{"k-ok", k, []string{"--workflow", "Score", "--input-json", "[1.5,2,3,-4,5.25,7,9,11]"}},
		run{"k-div0", k, []string{"--workflow", "Score", "--input-json", "[1.5,0.5,3]"}},
		run{"k-total", k, []string{"--workflow", "Total", "--input-json", "[1.5,2,3,-4,5.25,7,9,-11]"}})

	bins := map[string]string{}
	for _, r := range runs {
		if bins[r.src] != "" {
			continue
		}
		bin := filepath.Join(dir, strings.TrimSuffix(filepath.Base(r.src), ".knhk"))
		if code, _, stderr := knhkRun(t, filepath.Dir(r.src), "build", "--knhk-src", root, "-o", bin, filepath.Base(r.src)); code != 0 {
			t.Fatalf("knhk build %s: exit %d\n%s", r.src, code, stderr)
		}
		bins[r.src] = bin
	}

	// No loader: the kernel call fails where knhk run's does
	// (run_kernel_device.txtar), so the binary's calls reach the runner.
	noLoader := []string{"KNHK_DEVICE=vulkan", "KNHK_DEVICE_MIN=1", "KNHK_VULKAN_LOADER=/nonexistent/libvulkan.so.1"}
	code, _, stderr := binRun(t, dir, bins[k], noLoader, append([]string{"run", "--data", t.TempDir()}, runs[2].args...)...)
	if code == 0 || !regexp.MustCompile(`(?m)^k.knhk:15:11: case c-[0-9a-f]+ failed: KNHK_DEVICE=vulkan: no Vulkan loader`).MatchString(stderr) {
		t.Fatalf("without a loader: exit %d, want the kernel call failed:\n%s", code, stderr)
	}

	// The same for sum(xs), a list reduction with no kernel in it.
	code, _, stderr = binRun(t, dir, bins[k], noLoader, "run", "--data", t.TempDir(), "--workflow", "Count", "--input-json", "[1.5,2,3]")
	if code == 0 || !regexp.MustCompile(`(?m)^k.knhk:25:10: case c-[0-9a-f]+ failed: KNHK_DEVICE=vulkan: no Vulkan loader`).MatchString(stderr) {
		t.Fatalf("sum without a loader: exit %d, want the sum failed:\n%s", code, stderr)
	}

	// On the system's device, the interpreter's output exactly.
	if v, err := accel.Open(); err != nil || len(v.Devices) == 0 {
		if v != nil {
			v.Close()
		}
		if os.Getenv("KNHK_REQUIRE_E2E") != "" {
			t.Fatalf("Vulkan: %v (%d devices)", err, 0)
		}
		t.Skipf("Vulkan: %v", err)
	} else {
		v.Close()
	}
	device := []string{"KNHK_DEVICE=vulkan", "KNHK_DEVICE_MIN=1", "KNHK_CACHE_DIR=" + t.TempDir()}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			wantCode, wantOut, wantErr := knhkRun(t, filepath.Dir(r.src), append([]string{"run", "--data", t.TempDir()}, append(r.args, filepath.Base(r.src))...)...)
			code, out, errOut := binRun(t, filepath.Dir(r.src), bins[r.src], device, append([]string{"run", "--data", t.TempDir()}, r.args...)...)
			if code != wantCode || out != wantOut {
				t.Fatalf("binary on the device: exit %d, stdout\n%s\nknhk run: exit %d, stdout\n%s\nstderr:\n%s", code, out, wantCode, wantOut, errOut)
			}
			if wantCode != 0 {
				// The same failure at the same position; only the case ids differ.
				got, want := lastLine(casePrefix.ReplaceAllString(errOut, "c-")), lastLine(casePrefix.ReplaceAllString(wantErr, "c-"))
				if got != want {
					t.Fatalf("binary on the device fails with\n%s\nknhk run with\n%s", got, want)
				}
			}
		})
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndex(s, "\n")+1:]
}
