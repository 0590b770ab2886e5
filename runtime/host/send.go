// This file implements the delivery of signals that cases send to other
// cases (the send statement): the host moves each mail from the sender's
// outbox into the target's log, exactly once (see runtime/engine's
// send.go), and records the outcome in the sender.

package host

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
)

// Finder returns the engine that holds case id, loading (recovering) it
// when needed. An error wrapping [engine.ErrUndeliverable] or
// [engine.ErrUnknownCase] means there is no such case: its mail is
// recorded as undeliverable. Any other error stops the delivery and
// leaves the mail to a later one.
type Finder func(ctx context.Context, id string) (*engine.Engine, error)

// MaxPost bounds the mails one [Post] delivers, so that cases that keep
// signalling each other cannot hold the host forever; what is left stays
// in the outboxes for the next Post.
const MaxPost = 10000

// Delivery is the outcome of one mail: Why is empty when it was
// delivered.
type Delivery struct {
	Mail engine.Mail
	Why  string
}

// Post delivers the mail case id of eng has sent, then the mail that the
// receiving cases send as they run on, until no outbox of a case it
// reached holds any. Each outcome is recorded in the sender (an EvSent)
// and passed to report, when not nil.
func Post(ctx context.Context, eng *engine.Engine, id string, find Finder, report func(Delivery)) error {
	type held struct {
		e  *engine.Engine
		id string
	}
	queue := []held{{eng, id}}
	n := 0
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		for _, m := range h.e.Outbox(h.id) {
			if n >= MaxPost {
				return fmt.Errorf("delivered %d signals between cases without reaching an end; the rest stay queued", n)
			}
			n++
			target, err := deliver(ctx, find, m)
			why := ""
			switch {
			case err == nil:
				queue = append(queue, held{target, m.To})
			case errors.Is(err, engine.ErrUndeliverable) || errors.Is(err, engine.ErrUnknownCase):
				why = strings.TrimPrefix(err.Error(), engine.ErrUndeliverable.Error()+": ")
			default:
				return fmt.Errorf("signal %s to case %s: %w", m.Signal, m.To, err)
			}
			if err := h.e.Settle(ctx, h.id, m.ID, why); err != nil {
				return err
			}
			if report != nil {
				report(Delivery{Mail: m, Why: why})
			}
		}
	}
	return nil
}

// deliver finds m's target and hands it the mail. A payload that does not
// fit the target's declaration of the signal is undeliverable: the target
// may run another program than the sender.
func deliver(ctx context.Context, find Finder, m engine.Mail) (*engine.Engine, error) {
	te, err := find(ctx, m.To)
	if err != nil {
		return nil, err
	}
	if sig := declared(te.Machine().Prog, m.Workflow, m.Signal); sig != nil {
		if len(sig.Params) != len(m.Payload) {
			return nil, fmt.Errorf("%w: signal %s of case %s takes %d values, the send gave %d", engine.ErrUndeliverable, m.Signal, m.To, len(sig.Params), len(m.Payload))
		}
		if _, err := te.Machine().ValueArgs(m.Payload, sig.Params); err != nil {
			return nil, fmt.Errorf("%w: the payload of signal %s does not fit case %s: %v", engine.ErrUndeliverable, m.Signal, m.To, err)
		}
	}
	err = te.Receive(ctx, m.To, m)
	if errors.Is(err, engine.ErrBusy) {
		err = nil // delivered; the case keeps running
	}
	return te, err
}

// declared returns the declaration of signal name that workflow wf of p
// accepts: its own, or that of a net it may wait in.
func declared(p *ir.Program, wf, name string) *ir.Signal {
	if s := netSignal(p.Net(wf), name); s != nil {
		return s
	}
	for _, n := range p.Nets {
		if s := netSignal(n, name); s != nil {
			return s
		}
	}
	return nil
}

// netSignal returns n's declaration of signal name, nil when n is nil or
// declares none.
func netSignal(n *ir.Net, name string) *ir.Signal {
	if n == nil {
		return nil
	}
	for _, s := range n.Signals {
		if s != nil && s.Name == name {
			return s
		}
	}
	return nil
}
