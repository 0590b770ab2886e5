// This file implements knhk run --license: a case run in this process
// starts only under a licence that admits it.

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/meter"
	"github.com/knhk/knhk/runtime/store"
)

// checkRunLicense admits the start of a case of workflow in the data
// directory whose log is st, or prints why not. knhk run starts one case
// and holds no programs, so the limits that apply are the licence's
// standing (a warning in the grace period, a refusal after it),
// accelerator use and the month's transitions, counted from st; the
// concurrent cases and programs limits are a server's (knhk serve
// --license).
func checkRunLicense(e *env, o *licenseFlags, st *store.Store, workflow string) bool {
	l, err := o.load(time.Now())
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return false
	}
	if l == nil {
		return true
	}
	if err := checkLicensedDevice(l); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return false
	}
	enf := license.NewEnforcer(l)
	enf.Warn = func(msg string) { fmt.Fprintf(e.stderr, "knhk: warning: %s\n", msg) }
	if l.Limits.TransitionsPerMonth != nil {
		month := meter.Month(time.Now().UnixNano())
		u, err := meter.Count(context.Background(), st, month)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: counting this month's transitions: %v\n", err)
			return false
		}
		enf.SeedTransitions(month, u.Transitions)
	}
	release, err := enf.AdmitStart(workflow)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return false
	}
	release()
	return true
}
