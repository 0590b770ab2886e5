package accel

import (
	"fmt"
	"testing"
)

// FuzzParseDevice: any setting parses or fails without panicking, and a
// parsed one prints back to a setting that parses the same.
func FuzzParseDevice(f *testing.F) {
	for _, s := range []string{"", "auto", "cpu", "vulkan", "vulkan:0", "vulkan:17", "vulkan:-1", "vulkan:", "gpu", " cpu "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseDevice(s)
		if err != nil {
			return
		}
		var back string
		switch {
		case c.CPU:
			back = "cpu"
		case !c.Explicit:
			back = "auto"
		case c.Index < 0:
			back = "vulkan"
		default:
			back = fmt.Sprintf("vulkan:%d", c.Index)
		}
		if c2, err := ParseDevice(back); err != nil || c2 != c {
			t.Fatalf("%q parsed as %+v, printed %q, reparsed %+v, %v", s, c, back, c2, err)
		}
	})
}
