// This file runs this package's tests again under GOEXPERIMENT=simd, so
// that a plain go test covers the vector loops too.

package vec

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestSIMDExperiment runs the element-wise and reduction tests built with
// GOEXPERIMENT=simd and requires that they ran at every vector level this
// CPU has (per /proc/cpuinfo).
func TestSIMDExperiment(t *testing.T) {
	if testing.Short() || runtime.GOARCH != "amd64" || level != levelScalar || os.Getenv("KNHK_VEC_INNER") != "" {
		t.Skip("needs amd64 and a build without the experiment")
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo")
	}
	cmd := exec.Command("go", "test", "-count=1", "-v", "-run", "TestElementwise|TestReductions|TestSumBoundTight|TestColumn", ".")
	cmd.Env = append(os.Environ(), "GOEXPERIMENT=simd", "KNHK_VEC_INNER=1", "KNHK_VEC=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("GOEXPERIMENT=simd go test: %v\n%s", err, out)
	}
	for _, l := range []struct{ flag, name string }{{" avx2", "avx2"}, {" avx512f", "avx512"}} {
		for _, test := range []string{"TestElementwise", "TestColumns"} {
			if strings.Contains(string(info), l.flag) && !strings.Contains(string(out), "--- PASS: "+test+"/"+l.name) {
				t.Errorf("the CPU has %s but %s did not run at that level:\n%s", l.name, test, out)
			}
		}
	}
}
