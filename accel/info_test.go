package accel

import "testing"

func TestPreferred(t *testing.T) {
	mk := func(types ...string) *Vulkan {
		v := &Vulkan{}
		for i, ty := range types {
			v.Devices = append(v.Devices, DeviceInfo{Index: i, Type: ty, Compute: ty != "nocompute"})
		}
		return v
	}
	for _, c := range []struct {
		types []string
		want  int
	}{
		{[]string{"cpu", "integrated", "discrete"}, 2},
		{[]string{"cpu", "integrated"}, 1},
		{[]string{"cpu", "virtual"}, 1},
		{[]string{"cpu"}, 0},
		{[]string{"nocompute"}, -1},
		{nil, -1},
	} {
		if got := preferredOf(mk(c.types...).Devices); got != c.want {
			t.Errorf("Preferred(%v) = %d, want %d", c.types, got, c.want)
		}
	}
}
