//go:build cgo

package accel

import (
	"context"
	"os"
	"testing"

	"github.com/knhk/knhk/codegen/spirv/spirvtest"
)

// TestPipelineCacheOnDisk: closing a device that built pipelines saves
// the cache; the next device starts from it; a damaged file is ignored.
func TestPipelineCacheOnDisk(t *testing.T) {
	t.Setenv("KNHK_CACHE_DIR", t.TempDir())
	v := openOrSkip(t)
	defer v.Close()
	p, err := spirvtest.Build("codegen/spirv/testdata/dense.knhk")
	if err != nil {
		t.Fatal(err)
	}
	runOnce := func() string {
		d, err := v.OpenDevice(v.Preferred())
		if err != nil {
			t.Fatal(err)
		}
		sh := kernelNamed(t, p, "expf")
		res, err := d.Run(context.Background(), sh, [][]any{{[]float32{0, 1}}})
		if err != nil || res.Outputs[0].([]float32)[0] != 1 {
			t.Fatalf("run: %v", err)
		}
		d.Close()
		return d.cachePath
	}
	path := runOnce()
	b, err := os.ReadFile(path)
	if err != nil || len(b) <= 32 {
		t.Fatalf("cache file %s: %d bytes, %v", path, len(b), err)
	}
	if loadCache(path) == nil {
		t.Fatal("the saved cache does not load")
	}
	runOnce()
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if loadCache(path) != nil {
		t.Fatal("a damaged cache loads")
	}
	runOnce() // a damaged file is ignored and rewritten
	if loadCache(path) == nil {
		t.Fatal("the cache was not rewritten")
	}
}
