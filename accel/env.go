// This file implements the dispatcher the CLI installs: KNHK_DEVICE
// chooses the device, KNHK_DEVICE_MIN the size threshold.

package accel

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// FromEnv returns the kernel runner KNHK_DEVICE asks for, or nil when
// kernels stay on the CPU (KNHK_DEVICE=cpu). The device is opened on the
// first kernel call of at least KNHK_DEVICE_MIN elements (default
// DefaultThreshold), so programs without large kernel calls never load
// Vulkan. Without an explicit choice, no usable device means the CPU.
// When an explicit choice (vulkan, vulkan:N) cannot be met, or
// KNHK_DEVICE or KNHK_DEVICE_MIN is not valid, every kernel call the
// device would have taken fails with that error, so that a case says
// why instead of silently running elsewhere.
func FromEnv() eval.KernelRunner {
	threshold := DefaultThreshold
	if s := strings.TrimSpace(os.Getenv("KNHK_DEVICE_MIN")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return failing{fmt.Errorf("KNHK_DEVICE_MIN=%q: want a number of elements", s), 0}
		}
		threshold = n
	}
	setting := os.Getenv("KNHK_DEVICE")
	c, err := ParseDevice(setting)
	if err != nil {
		return failing{err, threshold}
	}
	if c.CPU {
		return nil
	}
	return &lazy{choice: c, setting: setting, threshold: threshold}
}

// Shared is the process's one kernel runner: FromEnv's, made on the first
// call. knhk run, knhk serve and built binaries all install it, so that a
// process opens its device once however many programs it runs.
var Shared = sync.OnceValue(FromEnv)

// Dispatches reports how many kernel calls runner r (one FromEnv
// returned) has sent to its device and how many, at or above the
// threshold, it left to the CPU; zero before the device is opened.
// Tests and diagnostics use it to see where calls ran.
func Dispatches(r eval.KernelRunner) (device, cpu int) {
	l, ok := r.(*lazy)
	if !ok {
		return 0, 0
	}
	l.mu.Lock()
	x, _ := l.run.(*Dispatcher)
	l.mu.Unlock()
	if x == nil {
		return 0, 0
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.Device, x.CPU
}

// lazy opens its device on the first call that needs it.
type lazy struct {
	choice    Choice
	setting   string
	threshold int
	once      sync.Once
	mu        sync.Mutex        // guards run for Dispatches
	run       eval.KernelRunner // nil: the CPU
}

func (l *lazy) RunKernel(p *ir.Program, k int, args []eval.Value) (eval.Value, bool, error) {
	if n, ok := firstLen(p, k, args); !ok || n < l.threshold {
		return eval.Value{}, false, nil
	}
	if run := l.open(); run != nil {
		return run.RunKernel(p, k, args)
	}
	return eval.Value{}, false, nil
}

// open opens the device once and returns the runner on it; nil: the CPU.
func (l *lazy) open() eval.KernelRunner {
	l.once.Do(func() {
		var run eval.KernelRunner
		_, d, err := OpenChoice(l.choice)
		switch {
		case err != nil:
			run = failing{fmt.Errorf("KNHK_DEVICE=%s: %w", l.setting, err), l.threshold}
		case d != nil:
			x := NewDispatcher(d)
			x.Threshold = l.threshold
			x.Strict = l.choice.Explicit
			run = x
		}
		l.mu.Lock()
		l.run = run
		l.mu.Unlock()
	})
	return l.run
}

// firstLen is the length of kernel k's first array argument.
func firstLen(p *ir.Program, k int, args []eval.Value) (int, bool) {
	if k < 0 || k >= len(p.Kernels) || p.Kernels[k] == nil {
		return 0, false
	}
	for i, pa := range p.Kernels[k].Params {
		if p.KindOf(pa.Type) == ir.KindList && i < len(args) && args[i].Kind() == ir.KindList {
			return args[i].Len(), true
		}
	}
	return 0, false
}

// failing is a runner that reports err for kernel calls of at least
// threshold elements.
type failing struct {
	err       error
	threshold int
}

func (f failing) RunKernel(p *ir.Program, k int, args []eval.Value) (eval.Value, bool, error) {
	if n, ok := firstLen(p, k, args); !ok || n < f.threshold {
		return eval.Value{}, false, nil
	}
	return eval.Value{}, true, f.err
}
