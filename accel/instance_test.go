//go:build cgo

package accel

import (
	"errors"
	"testing"
)

func TestOpenLoaderMissing(t *testing.T) {
	_, err := openLoader([]string{"libknhk-no-such-vulkan.so.1"})
	if !errors.Is(err, ErrNoLoader) {
		t.Fatalf("err = %v, want ErrNoLoader", err)
	}
}

func TestListDevices(t *testing.T) {
	v := openOrSkip(t)
	defer v.Close()
	if len(v.Devices) == 0 {
		t.Fatal("no devices")
	}
	for _, d := range v.Devices {
		t.Logf("%s groups=%d push=%d", d, d.MaxGroups, d.MaxPush)
		if d.Name == "" || d.MaxGroups == 0 || d.MaxPush < 128 {
			t.Errorf("device %d: implausible %+v", d.Index, d)
		}
	}
	if p := v.Preferred(); p < 0 || !v.Devices[p].Compute {
		t.Errorf("Preferred() = %d", p)
	}
}
