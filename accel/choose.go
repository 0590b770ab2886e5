// This file implements choosing where kernels run: KNHK_DEVICE.

package accel

import (
	"fmt"
	"strconv"
	"strings"
)

// Choice is a parsed KNHK_DEVICE.
type Choice struct {
	// CPU forces the CPU.
	CPU bool
	// Index is the Vulkan device: -1 for the preferred one.
	Index int
	// Explicit is set when the user named Vulkan: failing to open it is
	// then an error instead of a silent CPU fallback.
	Explicit bool
}

// ParseDevice parses a KNHK_DEVICE value: "" or "auto" (the preferred
// Vulkan GPU, else the CPU), "cpu", "vulkan" (the preferred Vulkan
// device, required) or "vulkan:N" (device N of `knhk devices`).
func ParseDevice(s string) (Choice, error) {
	switch s = strings.TrimSpace(s); s {
	case "", "auto":
		return Choice{Index: -1}, nil
	case "cpu":
		return Choice{CPU: true, Index: -1}, nil
	case "vulkan":
		return Choice{Index: -1, Explicit: true}, nil
	}
	if rest, ok := strings.CutPrefix(s, "vulkan:"); ok {
		n, err := strconv.Atoi(rest)
		if err == nil && n >= 0 {
			return Choice{Index: n, Explicit: true}, nil
		}
	}
	return Choice{}, fmt.Errorf("KNHK_DEVICE=%q: want cpu, vulkan, vulkan:N or auto", s)
}

// OpenChoice opens the device c names. It returns a nil device and no
// error for the CPU, and for "auto" when Vulkan has no usable GPU (a
// CPU Vulkan device such as lavapipe runs kernels several times slower
// than the Go loops on the same cores, so only an explicit choice uses
// it); an explicit Vulkan choice that cannot be opened is an error.
func OpenChoice(c Choice) (*Vulkan, *Device, error) {
	if c.CPU {
		return nil, nil, nil
	}
	v, err := Open()
	if err != nil {
		if c.Explicit {
			return nil, nil, err
		}
		return nil, nil, nil
	}
	i := c.Index
	if i < 0 {
		i = v.Preferred()
	}
	if !c.Explicit && i >= 0 && !v.Devices[i].GPU() {
		i = -1 // a CPU device such as lavapipe loses to the Go loops
	}
	if i < 0 {
		v.Close()
		if c.Explicit {
			return nil, nil, fmt.Errorf("vulkan: %w with a compute queue", ErrNoDevice)
		}
		return nil, nil, nil
	}
	d, err := v.OpenDevice(i)
	if err != nil {
		v.Close()
		if c.Explicit {
			return nil, nil, err
		}
		return nil, nil, nil
	}
	return v, d, nil
}
