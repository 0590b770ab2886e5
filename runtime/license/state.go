// This file implements a licence's standing at a point in time: valid,
// in its grace period, or expired.

package license

import (
	"fmt"
	"time"
)

// Standing is where a licence stands at some time.
type Standing int

// The standings.
const (
	Valid   Standing = iota // before expiry
	Grace                   // expired, within the grace period: new starts are admitted with a warning
	Expired                 // past the grace period: new starts are refused
)

func (s Standing) String() string {
	switch s {
	case Valid:
		return "valid"
	case Grace:
		return "in its grace period"
	}
	return "expired"
}

// GraceEnd is when l's grace period ends.
func (l *Payload) GraceEnd() time.Time {
	return l.Expires.Add(time.Duration(l.Limits.GraceDays) * 24 * time.Hour)
}

// At returns l's standing at now.
func (l *Payload) At(now time.Time) Standing {
	switch {
	case now.Before(l.Expires):
		return Valid
	case now.Before(l.GraceEnd()):
		return Grace
	}
	return Expired
}

// Describe says in one line where l stands at now, for knhk license
// verify and the warnings of a server in the grace period.
func (l *Payload) Describe(now time.Time) string {
	const day = 24 * time.Hour
	switch l.At(now) {
	case Valid:
		return fmt.Sprintf("valid until %s (%d days left)", l.Expires.Format(time.RFC3339), int(l.Expires.Sub(now)/day))
	case Grace:
		return fmt.Sprintf("expired on %s; in its grace period until %s: new starts are refused after that", l.Expires.Format(time.RFC3339), l.GraceEnd().Format(time.RFC3339))
	}
	return fmt.Sprintf("expired on %s; its grace period of %d days ended on %s", l.Expires.Format(time.RFC3339), l.Limits.GraceDays, l.GraceEnd().Format(time.RFC3339))
}
