// This file implements the soundness half of diagnostics: one gate runner
// per document, so that proofs neither pile up behind fast typing nor hold
// up the type checker's diagnostics.

package server

import (
	"sync"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// gateWait is how long a publish waits for the soundness gate before it
// sends the type checker's diagnostics alone; the gate's follow when it is
// done. A quick gate is published with the rest at once, so that an
// unsound workflow's error does not flicker away on every keystroke.
const gateWait = 30 * time.Millisecond

// gateJob is one version's soundness gate and its publish.
type gateJob struct {
	v     *view
	snap  snapshot
	a     *analysis
	diags []protocol.Diagnostic // the type checker's, already converted
	done  chan struct{}         // closed once the gate's publish is settled

	mu   sync.Mutex
	sent bool // the full diagnostics were published
}

// gate runs job's soundness gate on u's runner: at once when none runs,
// else after the running one, replacing any job already waiting (an older
// version, which would be stale by then).
func (d *diagnoser) gate(u uri.URI, job *gateJob) {
	d.mu.Lock()
	st := d.docs[u]
	if st == nil || d.stopped {
		d.mu.Unlock()
		close(job.done)
		return
	}
	if st.gating {
		st.next = job
		d.mu.Unlock()
		return
	}
	st.gating = true
	d.wg.Add(1)
	d.mu.Unlock()
	go func() {
		defer d.wg.Done()
		for job != nil {
			d.runGate(job)
			d.mu.Lock()
			job, st.next = st.next, nil
			if job == nil {
				st.gating = false
			}
			d.mu.Unlock()
		}
	}()
}

// runGate proves job's version sound and publishes every diagnostic of
// it, unless the document changed first.
func (d *diagnoser) runGate(job *gateJob) {
	defer close(job.done)
	if !d.s.isCurrent(job.snap) {
		return
	}
	more := job.v.convertDiagnostics(job.a, job.a.soundness())
	job.mu.Lock()
	defer job.mu.Unlock()
	job.sent = d.s.send(job.snap, append(job.diags, more...))
}
