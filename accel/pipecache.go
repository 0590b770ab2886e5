//go:build cgo

// This file implements keeping the pipeline cache on disk, so that a
// process does not compile the same modules again (drivers turn SPIR-V
// into machine code when a pipeline is created, tens of milliseconds a
// module on lavapipe).

package accel

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// maxCacheFile bounds the cache file read back.
const maxCacheFile = 64 << 20

// cacheFile is where device d's pipeline cache is kept:
// $KNHK_CACHE_DIR, else the user's cache directory under knhk/, named
// by the vendor, device and the driver's cache UUID (a new driver starts
// a new file). "" when there is no such directory.
func cacheFile(info DeviceInfo) string {
	dir := os.Getenv("KNHK_CACHE_DIR")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(base, "knhk")
	}
	return filepath.Join(dir, fmt.Sprintf("vulkan-%04x-%04x-%x.cache", info.VendorID, info.DeviceID, info.CacheUUID))
}

// loadCache returns the cache data saved for the device, or nil. The
// file holds the data's SHA-256 and the data, so that a damaged file is
// never handed to the driver.
func loadCache(path string) []byte {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) <= sha256.Size || len(b) > maxCacheFile {
		return nil
	}
	sum := sha256.Sum256(b[sha256.Size:])
	if !bytes.Equal(sum[:], b[:sha256.Size]) {
		return nil
	}
	return b[sha256.Size:]
}

// createCache creates the device's VkPipelineCache from the saved data.
func (d *Device) createCache() error {
	d.cachePath = cacheFile(d.Info)
	data := loadCache(d.cachePath)
	info := vk.PipelineCacheCreateInfo{SType: vk.StructureTypePipelineCacheCreateInfo}
	pin := pins(data)
	if len(data) > 0 {
		info.InitialDataSize = uint(len(data))
		info.PInitialData = unsafe.Pointer(&data[0])
	}
	var cache vk.PipelineCache
	r := vk.CreatePipelineCache(d.dev, &info, nil, &cache)
	pin.Unpin()
	if err := check(r, "vkCreatePipelineCache"); err != nil {
		return err
	}
	d.cache = cache
	return nil
}

// saveCache writes the pipeline cache back when this device created
// pipelines; failures only cost the next process the compilation.
func (d *Device) saveCache() {
	if d.cachePath == "" || !d.newPipelines {
		return
	}
	var size uint
	if vk.GetPipelineCacheData(d.dev, d.cache, &size, nil) != vk.Success || size == 0 || size > maxCacheFile {
		return
	}
	data := make([]byte, size)
	pin := pins(data)
	r := vk.GetPipelineCacheData(d.dev, d.cache, &size, unsafe.Pointer(&data[0]))
	pin.Unpin()
	if r != vk.Success {
		return
	}
	data = data[:size]
	sum := sha256.Sum256(data)
	if err := os.MkdirAll(filepath.Dir(d.cachePath), 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(d.cachePath), ".vulkan-cache-*")
	if err != nil {
		return
	}
	_, err = tmp.Write(append(sum[:], data...))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), d.cachePath)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
}
