package accel

import (
	"os"
	"testing"
)

// openOrSkip opens Vulkan, or skips where no loader or device exists;
// CI (KNHK_REQUIRE_E2E, with lavapipe installed) fails instead. Pipeline
// caches go to a temporary directory.
func openOrSkip(t testing.TB) *Vulkan {
	t.Helper()
	if os.Getenv("KNHK_CACHE_DIR") == "" {
		t.Setenv("KNHK_CACHE_DIR", t.TempDir()) // pipeline caches stay out of the user's directory
	}
	v, err := Open()
	if err == nil && len(v.Devices) == 0 {
		v.Close()
		err = ErrNoDevice
	}
	if err != nil {
		if os.Getenv("KNHK_REQUIRE_E2E") != "" {
			t.Fatalf("Vulkan: %v", err)
		}
		t.Skipf("Vulkan: %v", err)
	}
	return v
}
