//go:build cgo

// This file implements the Vulkan instance: loading the loader, creating
// an instance and listing the physical devices.

package accel

import (
	"fmt"
	"os"
	"sync"

	vk "github.com/vulkan-go/vulkan"
)

// loaderOnce guards vulkan-go's process-wide function pointers, which the
// loader fills once.
var (
	loaderOnce sync.Once
	loaderErr  error
)

func initLoader() error {
	loaderOnce.Do(func() {
		names := loaderNames
		if path := os.Getenv("KNHK_VULKAN_LOADER"); path != "" {
			names = []string{path}
		}
		p, err := openLoader(names)
		if err != nil {
			loaderErr = err
			return
		}
		vk.SetGetInstanceProcAddr(p)
		if err := vk.Init(); err != nil {
			loaderErr = fmt.Errorf("%w: %v", ErrNoLoader, err)
		}
	})
	return loaderErr
}

// Vulkan is an instance of the Vulkan API and its devices.
type Vulkan struct {
	inst    vk.Instance
	phys    []vk.PhysicalDevice
	Devices []DeviceInfo
}

// Open loads the Vulkan loader and creates an instance. It fails with
// ErrNoLoader when no loader library opens and ErrNoDevice when the
// loader has no driver. KNHK_VULKAN_LOADER names the loader library to
// use instead of libvulkan.so.1 and libvulkan.so (a loader unpacked
// outside the library path, as on some headless GPU machines).
func Open() (*Vulkan, error) {
	if err := initLoader(); err != nil {
		return nil, err
	}
	app := &vk.ApplicationInfo{
		SType:            vk.StructureTypeApplicationInfo,
		PApplicationName: "knhk\x00",
		PEngineName:      "knhk\x00",
		ApiVersion:       vk.MakeVersion(1, 1, 0),
	}
	var inst vk.Instance
	if err := check(vk.CreateInstance(&vk.InstanceCreateInfo{SType: vk.StructureTypeInstanceCreateInfo, PApplicationInfo: app}, nil, &inst), "vkCreateInstance"); err != nil {
		return nil, err
	}
	if err := vk.InitInstance(inst); err != nil {
		vk.DestroyInstance(inst, nil)
		return nil, fmt.Errorf("%w: %v", ErrNoLoader, err)
	}
	v := &Vulkan{inst: inst}
	var n uint32
	if err := check(vk.EnumeratePhysicalDevices(inst, &n, nil), "vkEnumeratePhysicalDevices"); err != nil {
		v.Close()
		return nil, err
	}
	v.phys = make([]vk.PhysicalDevice, n)
	if n > 0 {
		if err := check(vk.EnumeratePhysicalDevices(inst, &n, v.phys), "vkEnumeratePhysicalDevices"); err != nil {
			v.Close()
			return nil, err
		}
	}
	for i, pd := range v.phys {
		v.Devices = append(v.Devices, describe(i, pd))
	}
	return v, nil
}

// Close destroys the instance; devices opened from it must be closed
// first.
func (v *Vulkan) Close() {
	if v.inst != nil {
		vk.DestroyInstance(v.inst, nil)
		v.inst = nil
	}
}

func describe(i int, pd vk.PhysicalDevice) DeviceInfo {
	var props vk.PhysicalDeviceProperties
	vk.GetPhysicalDeviceProperties(pd, &props)
	props.Deref()
	props.Limits.Deref()
	d := DeviceInfo{
		Index:     i,
		Name:      vk.ToString(props.DeviceName[:]),
		API:       fmt.Sprintf("%d.%d.%d", props.ApiVersion>>22, props.ApiVersion>>12&0x3ff, props.ApiVersion&0xfff),
		Driver:    props.DriverVersion,
		VendorID:  props.VendorID,
		DeviceID:  props.DeviceID,
		CacheUUID: props.PipelineCacheUUID,
		MaxGroups: props.Limits.MaxComputeWorkGroupCount[0],
		MaxPush:   props.Limits.MaxPushConstantsSize,
		MaxBuffer: props.Limits.MaxStorageBufferRange,
	}
	switch props.DeviceType {
	case vk.PhysicalDeviceTypeDiscreteGpu:
		d.Type = "discrete"
	case vk.PhysicalDeviceTypeIntegratedGpu:
		d.Type = "integrated"
	case vk.PhysicalDeviceTypeVirtualGpu:
		d.Type = "virtual"
	case vk.PhysicalDeviceTypeCpu:
		d.Type = "cpu"
	default:
		d.Type = "other"
	}
	var mem vk.PhysicalDeviceMemoryProperties
	vk.GetPhysicalDeviceMemoryProperties(pd, &mem)
	mem.Deref()
	for h := uint32(0); h < mem.MemoryHeapCount; h++ {
		mem.MemoryHeaps[h].Deref()
		if mem.MemoryHeaps[h].Flags&vk.MemoryHeapFlags(vk.MemoryHeapDeviceLocalBit) != 0 && uint64(mem.MemoryHeaps[h].Size) > d.LocalBytes {
			d.LocalBytes = uint64(mem.MemoryHeaps[h].Size)
		}
	}
	d.Compute = computeFamily(pd) >= 0
	if props.Limits.TimestampComputeAndGraphics == vk.True {
		d.TimestampPeriod = props.Limits.TimestampPeriod
	}
	return d
}

// computeFamily returns the index of a queue family with compute, or -1.
func computeFamily(pd vk.PhysicalDevice) int {
	var n uint32
	vk.GetPhysicalDeviceQueueFamilyProperties(pd, &n, nil)
	fams := make([]vk.QueueFamilyProperties, n)
	vk.GetPhysicalDeviceQueueFamilyProperties(pd, &n, fams)
	for i := range fams {
		fams[i].Deref()
		if fams[i].QueueFlags&vk.QueueFlags(vk.QueueComputeBit) != 0 {
			return i
		}
	}
	return -1
}

// Preferred returns the index of the device to use when none is named
// (see preferredOf), or -1.
func (v *Vulkan) Preferred() int { return preferredOf(v.Devices) }
