package license

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCheckAcceleratorTime: a tier without accelerators refuses every
// call; one with accelerator_seconds_per_month refuses once the month's
// time reaches it, naming the limit, the tier and the time used.
func TestCheckAcceleratorTime(t *testing.T) {
	none := &Payload{Tier: "team"}
	if err := none.CheckAcceleratorTime(0); err == nil || !strings.Contains(err.Error(), "tier team does not include accelerators") {
		t.Errorf("no accelerator: %v", err)
	}
	var le *LimitError
	ten := int64(10)
	p := &Payload{Tier: "gpu", Limits: Limits{Accelerator: true, AcceleratorSecondsPerMonth: &ten}}
	if err := p.CheckAcceleratorTime(int64(9999 * time.Millisecond)); err != nil {
		t.Errorf("under the limit: %v", err)
	}
	err := p.CheckAcceleratorTime(int64(10 * time.Second))
	if !errors.As(err, &le) || le.Limit != LimitAcceleratorSeconds || !errors.Is(err, ErrLimit) ||
		!strings.Contains(err.Error(), "licence limit accelerator_seconds_per_month (10, tier gpu) reached: 10s of accelerator time used this month") {
		t.Errorf("at the limit: %v", err)
	}
	unlimited := &Payload{Tier: "gpu", Limits: Limits{Accelerator: true}}
	if err := unlimited.CheckAcceleratorTime(1 << 62); err != nil {
		t.Errorf("unlimited: %v", err)
	}
	var l Limits
	if err := l.Set(LimitAcceleratorSeconds, "3600"); err != nil || *l.AcceleratorSecondsPerMonth != 3600 {
		t.Errorf("set: %v", err)
	}
}
