package accel

import "testing"

func TestParseDevice(t *testing.T) {
	for in, want := range map[string]Choice{
		"":          {Index: -1},
		"auto":      {Index: -1},
		"cpu":       {CPU: true, Index: -1},
		"vulkan":    {Index: -1, Explicit: true},
		"vulkan:2":  {Index: 2, Explicit: true},
		" vulkan:0": {Index: 0, Explicit: true},
	} {
		got, err := ParseDevice(in)
		if err != nil || got != want {
			t.Errorf("ParseDevice(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"gpu", "vulkan:", "vulkan:-1", "vulkan:x", "cuda:0"} {
		if _, err := ParseDevice(bad); err == nil {
			t.Errorf("ParseDevice(%q) succeeded", bad)
		}
	}
}

func TestOpenChoiceMissingDevice(t *testing.T) {
	v := openOrSkip(t)
	n := len(v.Devices)
	v.Close()
	if _, _, err := OpenChoice(Choice{Index: n + 5, Explicit: true}); err == nil {
		t.Fatal("opening a device that does not exist succeeded")
	}
}

// TestOpenChoiceAutoSkipsCPUDevices: without a choice a CPU Vulkan device
// (lavapipe) is not used; naming Vulkan uses it.
func TestOpenChoiceAutoSkipsCPUDevices(t *testing.T) {
	v := openOrSkip(t)
	pref := v.Preferred()
	if pref < 0 || v.Devices[pref].GPU() {
		v.Close()
		t.Skip("the preferred device is a GPU")
	}
	v.Close()
	if v, d, err := OpenChoice(Choice{Index: -1}); d != nil || err != nil {
		d.Close()
		v.Close()
		t.Fatalf("auto opened %v, %v", d, err)
	}
	v, d, err := OpenChoice(Choice{Index: -1, Explicit: true})
	if err != nil || d == nil {
		t.Fatalf("vulkan: %v", err)
	}
	d.Close()
	v.Close()
}
