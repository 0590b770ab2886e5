//go:build cgo

// This file implements loading the Vulkan loader library at run time.

package accel

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

static void *knhk_vk_open(const char *name, char **err) {
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		*err = dlerror();
	}
	return h;
}

static void *knhk_vk_sym(void *h) {
	return dlsym(h, "vkGetInstanceProcAddr");
}
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// loaderNames are tried in order: runtime packages (Debian libvulkan1)
// install only the versioned name; libvulkan.so comes with the -dev
// package alone, which is why vulkan-go's own default loader (that name
// only) fails on most machines.
var loaderNames = []string{"libvulkan.so.1", "libvulkan.so"}

// openLoader returns vkGetInstanceProcAddr from the first loader library
// that opens, or an error wrapping ErrNoLoader that says what each try
// reported.
func openLoader(names []string) (unsafe.Pointer, error) {
	var why []string
	for _, name := range names {
		cname := C.CString(name)
		var cerr *C.char
		h := C.knhk_vk_open(cname, &cerr)
		C.free(unsafe.Pointer(cname))
		if h == nil {
			msg := "not found"
			if cerr != nil {
				msg = C.GoString(cerr)
			}
			why = append(why, msg)
			continue
		}
		if p := C.knhk_vk_sym(h); p != nil {
			return p, nil
		}
		why = append(why, name+": no vkGetInstanceProcAddr")
	}
	return nil, fmt.Errorf("%w (install libvulkan1): %s", ErrNoLoader, strings.Join(why, "; "))
}
