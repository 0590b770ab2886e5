package server

import "testing"

// TestSetWakesOnChange: bringing a summary up to date with what it
// already says wakes no watcher; a change wakes them once.
func TestSetWakesOnChange(t *testing.T) {
	e := newEntry(Summary{ID: "c-1", Status: "running", Waiting: []string{"Go"}, Idle: true})
	_, ch := e.watch()
	e.set(Summary{ID: "c-1", Status: "running", Waiting: []string{"Go"}, Idle: true})
	select {
	case <-ch:
		t.Fatal("an unchanged summary woke the watchers")
	default:
	}
	for _, next := range []Summary{
		{ID: "c-1", Status: "running", Waiting: []string{"Stop"}, Idle: true},
		{ID: "c-1", Status: "running", Waiting: []string{"Stop"}},
		{ID: "c-1", Status: "failed", Error: "x", ErrorAt: &SourceRange{Line: 1}},
		{ID: "c-1", Status: "failed", Error: "x", ErrorAt: &SourceRange{Line: 2}},
		{ID: "c-1", Status: "completed", Result: "1"},
	} {
		e.set(next)
		select {
		case <-ch:
		default:
			t.Fatalf("the change to %+v woke no watcher", next)
		}
		_, ch = e.watch()
	}
}
