// This file implements the growth of retry backoffs.

package engine

import "time"

// MaxBackoff caps the doubling of a retry's backoff: a backoff clause of
// D waits D before the second attempt, 2D before the third, 4D before
// the fourth and so on, but never longer than MaxBackoff (or than D,
// when D itself is longer), so that a task with many retries keeps
// trying at a steady pace instead of waiting days.
const MaxBackoff = time.Hour

// retryDelay returns how long to wait after failed attempt number
// attempt (from 1) before the next one, for a backoff clause of base
// nanoseconds: base doubled once per attempt after the first, capped
// (see MaxBackoff). It does not overflow: the doubling stops at the cap.
func retryDelay(base int64, attempt int32) int64 {
	limit := max(base, int64(MaxBackoff))
	d := base
	for i := int32(1); i < attempt && d > 0 && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
