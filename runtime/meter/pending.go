// This file implements the accelerator use a raft cluster node has not
// yet put into its group's log: on a cluster the ledger is only the
// node's own record, and the usage report counts the kernel calls the
// log carries (runtime/cluster's meter.go), so that every replica
// counts the same time and a failover loses none. The node takes what
// is pending into the next command it proposes and gives it back when
// the command was surely not committed.

package meter

// addPending adds u to month's pending use; a.mu is held.
func (a *Accelerator) addPending(month string, u AccelMonth) {
	if a.pending == nil {
		a.pending = map[string]AccelMonth{}
	}
	p := a.pending[month]
	p.NS += u.NS
	p.Calls += u.Calls
	a.pending[month] = p
}

// TakePending returns, by month, the use metered since it was last
// taken (nil when none), and forgets it: the caller now carries it.
func (a *Accelerator) TakePending() map[string]AccelMonth {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.pending
	a.pending = nil
	return p
}

// ReturnPending gives back use that TakePending returned and that did
// not reach the log, to be taken again.
func (a *Accelerator) ReturnPending(p map[string]AccelMonth) {
	if a == nil || len(p) == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for m, u := range p {
		a.addPending(m, u)
	}
}

// PendingMonth returns month's use not yet taken.
func (a *Accelerator) PendingMonth(month string) AccelMonth {
	if a == nil {
		return AccelMonth{}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pending[month]
}
