package engine

import (
	"math"
	"testing"
	"time"
)

// TestRetryDelay checks the doubling of a backoff and its cap.
func TestRetryDelay(t *testing.T) {
	s := int64(time.Second)
	for _, c := range []struct {
		base    int64
		attempt int32
		want    int64
	}{
		{s, 1, s}, {s, 2, 2 * s}, {s, 3, 4 * s}, {s, 4, 8 * s},
		{s, 12, 2048 * s}, {s, 13, int64(MaxBackoff)}, // 4096 s is past the cap
		{s, math.MaxInt32, int64(MaxBackoff)},
		{2 * int64(time.Hour), 5, 2 * int64(time.Hour)}, // a base above the cap stays
		{0, 9, 0},
		{int64(45 * time.Minute), 2, int64(MaxBackoff)},
	} {
		if got := retryDelay(c.base, c.attempt); got != c.want {
			t.Errorf("retryDelay(%v, %d) = %v, want %v", time.Duration(c.base), c.attempt, time.Duration(got), time.Duration(c.want))
		}
	}
}
