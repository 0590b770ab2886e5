// This file implements "knhk devices": the compute devices kernels can
// run on, and which one KNHK_DEVICE chooses.

package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/knhk/knhk/accel"
)

var devicesCmd = &command{
	name:      "devices",
	usageLine: "knhk devices [--json]",
	short:     "list the Vulkan devices kernels can run on",
	long: `Devices lists the Vulkan devices the loader offers, one a line: the name
KNHK_DEVICE selects it by (vulkan:N), the device's name and type
(discrete, integrated, virtual or cpu), its Vulkan version, and the limits
that matter to kernels. It marks the device kernels use without a choice:
the first discrete GPU, else an integrated one, else any.

Then it says where kernels run under the current KNHK_DEVICE:
  unset or auto   the preferred Vulkan GPU, else the CPU (a CPU Vulkan
                  device such as lavapipe only when named: the Go loops
                  beat it)
  cpu             the CPU (the compiled Go loops)
  vulkan          the preferred Vulkan device; failing that is an error
  vulkan:N        device N; failing that is an error
Kernel calls over at least 65536 elements go to the device; smaller ones,
and elements the device reports as failed, run on the CPU.

Without a Vulkan loader (Debian libvulkan1) or driver (mesa-vulkan-drivers
provides lavapipe, a CPU device) devices says so and exits 0 unless
KNHK_DEVICE demands Vulkan. KNHK_VULKAN_LOADER names a loader library to
use instead of libvulkan.so.1 and libvulkan.so.

With --json, devices prints one JSON object instead: "devices" (index,
name, type, api, maxGroups, maxPushBytes, maxBufferBytes, localBytes,
preferred), "error" when Vulkan could not be opened, and "runsOn": "cpu"
or "vulkan:N".
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		asJSON := fs.Bool("json", false, "print the devices and the choice as JSON")
		return func(e *env, args []string) int {
			if len(args) != 0 {
				return usageError(e, "devices takes no arguments")
			}
			if *asJSON {
				return devicesJSON(e)
			}
			return runDevices(e)
		}
	},
}

// devicesReport is the --json output.
type devicesReport struct {
	Devices []deviceJSON `json:"devices"`
	Error   string       `json:"error,omitempty"`
	RunsOn  string       `json:"runsOn"`
}

type deviceJSON struct {
	Index          int    `json:"index"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	API            string `json:"api"`
	MaxGroups      uint32 `json:"maxGroups"`
	MaxPushBytes   uint32 `json:"maxPushBytes"`
	MaxBufferBytes uint32 `json:"maxBufferBytes"`
	LocalBytes     uint64 `json:"localBytes"`
	Preferred      bool   `json:"preferred"`
}

func devicesJSON(e *env) int {
	choice, err := accel.ParseDevice(os.Getenv("KNHK_DEVICE"))
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk devices: %v\n", err)
		return exitUser
	}
	r := devicesReport{Devices: []deviceJSON{}, RunsOn: "cpu"}
	v, err := accel.Open()
	if err != nil {
		r.Error = err.Error()
	} else {
		defer v.Close()
		pref := v.Preferred()
		for _, d := range v.Devices {
			r.Devices = append(r.Devices, deviceJSON{d.Index, d.Name, d.Type, d.API, d.MaxGroups, d.MaxPush, d.MaxBuffer, d.LocalBytes, d.Index == pref})
		}
		i := choice.Index
		if i < 0 {
			i = pref
		}
		switch {
		case choice.CPU:
		case !choice.Explicit && i >= 0 && !v.Devices[i].GPU():
		case i >= 0 && i < len(v.Devices):
			r.RunsOn = fmt.Sprintf("vulkan:%d", i)
		default:
			r.Error = fmt.Sprintf("%v: vulkan:%d (the loader lists %d)", accel.ErrNoDevice, i, len(v.Devices))
		}
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	fmt.Fprintln(e.stdout, string(b))
	if choice.Explicit && r.RunsOn == "cpu" {
		return exitUser
	}
	return exitOK
}

func runDevices(e *env) int {
	setting := os.Getenv("KNHK_DEVICE")
	choice, err := accel.ParseDevice(setting)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk devices: %v\n", err)
		return exitUser
	}
	v, err := accel.Open()
	if err != nil {
		fmt.Fprintf(e.stdout, "no Vulkan devices: %v\n", err)
		return devicesVerdict(e, choice, setting, nil, err)
	}
	defer v.Close()
	pref := v.Preferred()
	for _, d := range v.Devices {
		mark := ""
		if d.Index == pref {
			mark = "  (preferred)"
		}
		fmt.Fprintf(e.stdout, "vulkan:%d  %s  %s  Vulkan %s  max groups %d, push %d B, buffers up to %s, local memory %s%s\n",
			d.Index, d.Name, d.Type, d.API, d.MaxGroups, d.MaxPush, bytesText(uint64(d.MaxBuffer)), bytesText(d.LocalBytes), mark)
	}
	if len(v.Devices) == 0 {
		fmt.Fprintln(e.stdout, "no Vulkan devices: the loader lists none (install a driver, e.g. mesa-vulkan-drivers)")
	}
	if choice.CPU {
		return devicesVerdict(e, choice, setting, nil, nil)
	}
	i := choice.Index
	if i < 0 {
		i = pref
	}
	if i < 0 || i >= len(v.Devices) {
		return devicesVerdict(e, choice, setting, nil, fmt.Errorf("%w: vulkan:%d (the loader lists %d)", accel.ErrNoDevice, i, len(v.Devices)))
	}
	d := v.Devices[i]
	if !choice.Explicit && !d.GPU() {
		fmt.Fprintf(e.stdout, "KNHK_DEVICE=%s: kernels run on the CPU (vulkan:%d is a CPU device, slower than the Go loops; KNHK_DEVICE=vulkan uses it)\n", settingText(setting), d.Index)
		return exitOK
	}
	return devicesVerdict(e, choice, setting, &d, nil)
}

func settingText(s string) string {
	if s == "" {
		return "(unset)"
	}
	return s
}

// devicesVerdict prints where kernels run and the exit status: an
// explicit Vulkan choice that cannot be met is a user error.
func devicesVerdict(e *env, c accel.Choice, setting string, d *accel.DeviceInfo, err error) int {
	setting = settingText(setting)
	switch {
	case c.CPU:
		fmt.Fprintf(e.stdout, "KNHK_DEVICE=%s: kernels run on the CPU\n", setting)
	case d != nil:
		fmt.Fprintf(e.stdout, "KNHK_DEVICE=%s: kernel calls of %d elements or more run on vulkan:%d (%s)\n", setting, accel.DefaultThreshold, d.Index, d.Name)
	case c.Explicit:
		fmt.Fprintf(e.stderr, "knhk devices: KNHK_DEVICE=%s: %v\n", setting, err)
		return exitUser
	default:
		why := "no device"
		if errors.Is(err, accel.ErrNoLoader) {
			why = "no Vulkan loader"
		}
		fmt.Fprintf(e.stdout, "KNHK_DEVICE=%s: kernels run on the CPU (%s)\n", setting, why)
	}
	return exitOK
}

func bytesText(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d B", n)
}

// kernelRunner is the accelerator for kernel calls in this process,
// chosen once from KNHK_DEVICE (see accel.FromEnv).
var kernelRunner = accel.Shared
