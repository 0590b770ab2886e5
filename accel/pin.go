//go:build cgo

// This file implements pinning for vulkan-go: its create-info structs
// carry slices and strings that point into Go memory, and cgo's pointer
// check rejects passing them unless that memory is pinned for the call.

package accel

import (
	"runtime"
	"unsafe"
)

// pins pins the first element of each non-empty slice or string and
// returns the pinner to Unpin after the call.
func pins[T any](slices ...[]T) *runtime.Pinner {
	p := new(runtime.Pinner)
	for _, s := range slices {
		if len(s) > 0 {
			p.Pin(&s[0])
		}
	}
	return p
}

// pinString pins s's bytes with p.
func pinString(p *runtime.Pinner, s string) {
	if len(s) > 0 {
		p.Pin(unsafe.StringData(s))
	}
}
