// This file implements the reading of an event's values as typed eval
// values: an event read from the log carries them without their types
// (the log stores none), and the program and the case's state before the
// event give them (engine.Machine.TypeEvent).

package host

import (
	"fmt"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// TypedValues are an event's Values, Undo and Features as typed eval
// values.
type TypedValues struct {
	Values, Undo, Features []eval.Value
}

// EventValues returns e's values typed by what e means in s, the case's
// state before e (neither s nor e is changed). A value of the wrong
// shape for its type is an error naming the event and the slot.
func EventValues(m *engine.Machine, s *engine.State, e *engine.Event) (TypedValues, error) {
	vt, ok := m.TypesOf(s, e)
	if !ok {
		return TypedValues{}, fmt.Errorf("%s event: its values do not fit the program", e.Kind)
	}
	var tv TypedValues
	var err error
	if tv.Values, err = engine.RetypeValues(m.Prog, e.Kind, "value", e.Values, vt.Values); err != nil {
		return TypedValues{}, err
	}
	if tv.Undo, err = engine.RetypeValues(m.Prog, e.Kind, "undo argument", e.Undo, vt.Undo); err != nil {
		return TypedValues{}, err
	}
	if tv.Features, err = engine.RetypeValues(m.Prog, e.Kind, "feature", e.Features, vt.Features); err != nil {
		return TypedValues{}, err
	}
	return tv, nil
}

// WithValues returns a copy of e carrying tv: engine.EncodeEvent of the
// copy is the canonical encoding of the typed event.
func WithValues(e *engine.Event, tv TypedValues) *engine.Event {
	c := *e
	c.Values, c.Undo, c.Features = tv.Values, tv.Undo, tv.Features
	return &c
}
