package engine

import (
	"reflect"
	"testing"
)

// TestCloneSharesMail checks that a clone keeps the send bookkeeping it
// was taken with while the original receives and settles mail: the
// outbox, the record of mail seen and the undelivered sends are the
// clone's own.
func TestCloneSharesMail(t *testing.T) {
	state := func() *State {
		return &State{ID: "a",
			Outbox:      []Mail{{ID: "a/send/0", To: "b"}, {ID: "a/send/1", To: "c"}},
			MailSeen:    map[string]int32{"x": 1},
			Undelivered: make([]string, 1, 4),
		}
	}
	s, want := state(), state()
	c := s.Clone()
	received(s, &Event{Kind: EvSignal, From: "x/send/2"})
	if err := sent(s, &Event{Kind: EvSent, Name: "a/send/0", Message: "gone"}); err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(s, want) {
		t.Fatal("receiving and settling mail left the state as it was")
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("the clone changed with the original:\n got %+v\nwant %+v", c, want)
	}
}
