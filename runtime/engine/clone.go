// This file implements copying a state.

package engine

import (
	"maps"
	"slices"
)

// Clone returns a copy of s that shares no mutable memory with it. Values
// (arguments, results, variables) are shared: the engine never mutates
// them.
func (s *State) Clone() *State {
	c := *s
	c.Frames = slices.Clone(s.Frames)
	for i, f := range s.Frames {
		x := *f
		x.Marking = slices.Clone(f.Marking)
		x.Vars = slices.Clone(f.Vars)
		x.Alias = slices.Clone(f.Alias)
		x.Groups = slices.Clone(f.Groups)
		x.Held = slices.Clone(f.Held)
		for j, g := range f.Groups {
			y := *g
			y.Items = slices.Clone(g.Items)
			y.Results = slices.Clone(g.Results)
			x.Groups[j] = &y
		}
		c.Frames[i] = &x
	}
	c.Invs = slices.Clone(s.Invs)
	for i, v := range s.Invs {
		x := *v
		c.Invs[i] = &x
	}
	c.Timers = slices.Clone(s.Timers)
	c.Inbox = slices.Clone(s.Inbox)
	c.Comp = slices.Clone(s.Comp)
	c.CompErrors = slices.Clone(s.CompErrors)
	c.HookQ = slices.Clone(s.HookQ)
	c.HookErrors = slices.Clone(s.HookErrors)
	c.Outbox = slices.Clone(s.Outbox)
	c.MailSeen = maps.Clone(s.MailSeen)
	c.Undelivered = slices.Clone(s.Undelivered)
	return &c
}
