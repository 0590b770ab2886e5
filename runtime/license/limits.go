// This file implements the limits a tier grants and the tiers file that
// names them.

package license

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Limits are what a licence allows. A nil count is unlimited; a count of
// zero allows none. They are pointers so that "unlimited" is written as
// an absent field, never as a magic number.
type Limits struct {
	Programs            *int64 `json:"programs,omitempty"`              // programs deployed at once
	ConcurrentCases     *int64 `json:"concurrent_cases,omitempty"`      // cases running at once
	TransitionsPerMonth *int64 `json:"transitions_per_month,omitempty"` // transitions fired per calendar month (UTC)
	ClusterSize         *int64 `json:"cluster_size,omitempty"`          // nodes in a cluster
	Accelerator         bool   `json:"accelerator,omitempty"`           // kernels may run on a GPU or other accelerator
	// AcceleratorSecondsPerMonth bounds the accelerator time of a
	// calendar month (UTC); beyond it kernel calls run on the CPU.
	AcceleratorSecondsPerMonth *int64 `json:"accelerator_seconds_per_month,omitempty"`
	// GraceDays is how long after expiry the licence still admits new
	// starts, with a warning.
	GraceDays int64 `json:"grace_days,omitempty"`
}

// The limit names, as errors, the tiers file and knhk license issue --set
// spell them.
const (
	LimitPrograms            = "programs"
	LimitConcurrentCases     = "concurrent_cases"
	LimitTransitionsPerMonth = "transitions_per_month"
	LimitClusterSize         = "cluster_size"
	LimitAccelerator         = "accelerator"
	LimitAcceleratorSeconds  = "accelerator_seconds_per_month"
	LimitGraceDays           = "grace_days"
	LimitExpiry              = "expiry"
)

// counts returns the count limits by name.
func (l *Limits) counts() map[string]**int64 {
	return map[string]**int64{
		LimitPrograms:            &l.Programs,
		LimitConcurrentCases:     &l.ConcurrentCases,
		LimitTransitionsPerMonth: &l.TransitionsPerMonth,
		LimitClusterSize:         &l.ClusterSize,
		LimitAcceleratorSeconds:  &l.AcceleratorSecondsPerMonth,
	}
}

// Set sets the limit name to value: a count, "unlimited", a boolean for
// accelerator, or days for grace_days.
func (l *Limits) Set(name, value string) error {
	switch name {
	case LimitAccelerator:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("limit %s: want true or false, got %q", name, value)
		}
		l.Accelerator = b
		return nil
	case LimitGraceDays:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < 0 || n > maxGraceDays {
			return fmt.Errorf("limit %s: want a number of days from 0 to %d, got %q", name, maxGraceDays, value)
		}
		l.GraceDays = n
		return nil
	}
	p, ok := l.counts()[name]
	if !ok {
		return fmt.Errorf("no limit %q (limits: %s)", name, strings.Join(LimitNames(), ", "))
	}
	if value == "unlimited" {
		*p = nil
		return nil
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("limit %s: want a count of 0 or more or \"unlimited\", got %q", name, value)
	}
	*p = &n
	return nil
}

// LimitNames lists the limits, sorted.
func LimitNames() []string {
	names := []string{LimitAccelerator, LimitGraceDays}
	for n := range (&Limits{}).counts() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// maxGraceDays bounds the grace period (ten years): a larger value is a
// typo, not a policy.
const maxGraceDays = 3650

// check reports a negative count or an out-of-range grace period.
func (l *Limits) check() error {
	for name, p := range l.counts() {
		if *p != nil && **p < 0 {
			return fmt.Errorf("limit %s is negative (%d)", name, **p)
		}
	}
	if l.GraceDays < 0 || l.GraceDays > maxGraceDays {
		return fmt.Errorf("limit %s is %d; want 0 to %d", LimitGraceDays, l.GraceDays, maxGraceDays)
	}
	return nil
}

// String writes l one limit per line, as knhk license show prints it.
func (l *Limits) String() string {
	var b strings.Builder
	for _, name := range LimitNames() {
		fmt.Fprintf(&b, "  %-31s %s\n", name+":", l.value(name))
	}
	return b.String()
}

func (l *Limits) value(name string) string {
	switch name {
	case LimitAccelerator:
		return strconv.FormatBool(l.Accelerator)
	case LimitGraceDays:
		return strconv.FormatInt(l.GraceDays, 10)
	}
	p := *l.counts()[name]
	if p == nil {
		return "unlimited"
	}
	return strconv.FormatInt(*p, 10)
}

// TiersVersion is the version of the tiers file format.
const TiersVersion = 1

// Tiers is a tiers file: the limits of each tier a vendor sells, by name.
// Changing what a tier grants is an edit of this file, not of knhk.
type Tiers struct {
	Version int               `json:"version"`
	Tiers   map[string]Limits `json:"tiers"`
}

// ParseTiers decodes a tiers file. Unknown fields are errors: a
// misspelt limit must not silently grant "unlimited".
func ParseTiers(b []byte) (*Tiers, error) {
	var t Tiers
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&t); err != nil {
		return nil, fmt.Errorf("bad tiers file: %w", err)
	}
	if d.More() {
		return nil, fmt.Errorf("bad tiers file: data after the JSON object")
	}
	if t.Version != TiersVersion {
		return nil, fmt.Errorf("tiers file version %d; this knhk reads version %d", t.Version, TiersVersion)
	}
	if len(t.Tiers) == 0 {
		return nil, fmt.Errorf("tiers file names no tiers")
	}
	for name, l := range t.Tiers {
		if name == "" {
			return nil, fmt.Errorf("tiers file: a tier with an empty name")
		}
		if err := l.check(); err != nil {
			return nil, fmt.Errorf("tier %s: %w", name, err)
		}
	}
	return &t, nil
}

// Tier returns the limits of the tier name, or an error listing the tiers.
func (t *Tiers) Tier(name string) (Limits, error) {
	l, ok := t.Tiers[name]
	if !ok {
		names := make([]string, 0, len(t.Tiers))
		for n := range t.Tiers {
			names = append(names, n)
		}
		sort.Strings(names)
		return Limits{}, fmt.Errorf("no tier %q (tiers: %s)", name, strings.Join(names, ", "))
	}
	return l, nil
}
