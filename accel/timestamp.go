//go:build cgo

// This file implements device timestamps around the dispatches, so that
// benchmarks can report kernel-only time apart from transfers.

package accel

import (
	"time"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

type timestamps struct {
	pool   vk.QueryPool
	period float64 // nanoseconds per tick
}

// timestamps returns the device's query pool of two timestamps, or nil
// where compute queues have none.
func (d *Device) timestamps() *timestamps {
	if d.ts != nil || d.noTS {
		return d.ts
	}
	if d.Info.TimestampPeriod <= 0 {
		d.noTS = true
		return nil
	}
	t := &timestamps{period: float64(d.Info.TimestampPeriod)}
	var pool vk.QueryPool
	if check(vk.CreateQueryPool(d.dev, &vk.QueryPoolCreateInfo{
		SType: vk.StructureTypeQueryPoolCreateInfo, QueryType: vk.QueryTypeTimestamp, QueryCount: 2,
	}, nil, &pool), "vkCreateQueryPool") != nil {
		d.noTS = true
		return nil
	}
	t.pool = pool
	d.ts = t
	return t
}

// read returns the time between the two timestamps, or 0 when they are
// not available.
func (t *timestamps) read(d *Device) time.Duration {
	var v [2]uint64
	if vk.GetQueryPoolResults(d.dev, t.pool, 0, 2, 16, unsafe.Pointer(&v[0]), 8, vk.QueryResultFlags(vk.QueryResult64Bit|vk.QueryResultWaitBit)) != vk.Success || v[1] < v[0] {
		return 0
	}
	return time.Duration(float64(v[1]-v[0]) * t.period)
}

func (t *timestamps) destroy(dev vk.Device) { vk.DestroyQueryPool(dev, t.pool, nil) }

// pushPtr points at the push constant words for vkCmdPushConstants,
// which copies them while recording.
func pushPtr(w []uint32) unsafe.Pointer { return unsafe.Pointer(&w[0]) }
