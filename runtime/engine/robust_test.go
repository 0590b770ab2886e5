// This file checks that Apply never panics and leaves the state alone
// when it rejects an event.

package engine

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/knhk/knhk/runtime/eval"
)

func TestApplyRandomEvents(t *testing.T) {
	x := newFixture(t)
	richNet(x)
	x.start("c", "Rich")
	m := x.eng.Machine()
	events := x.log.Events("c")
	r := rand.New(rand.NewPCG(1, 2))
	values := [][]eval.Value{nil, {}, eval.Values(int64(1)), eval.Values([]any{int64(1), int64(2)}), eval.Values("x", nil)}
	for round := range 300 {
		s := State{ID: "c"}
		stop := r.IntN(len(events))
		for i := range stop {
			if err := m.Apply(&s, &events[i]); err != nil {
				t.Fatal(err)
			}
		}
		for range 20 {
			ev := Event{Kind: EventKind(r.IntN(int(numEventKinds) + 1)), Frame: int32(r.IntN(6) - 1),
				Trans: int32(r.IntN(12) - 1), Inv: int32(r.IntN(8) - 1), Attempt: int32(r.IntN(3)),
				Values: values[r.IntN(len(values))], Outs: [][]int32{nil, {0}, {5, -1}}[r.IntN(3)],
				Limit: int32(r.IntN(3) - 1), Quorum: int32(r.IntN(3) - 1), Choice: int32(r.IntN(3) - 1), Name: "Go"}
			before := s.Clone()
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("round %d: %+v panicked: %v", round, ev, p)
					}
				}()
				if err := m.Apply(&s, &ev); err != nil && !reflect.DeepEqual(before, &s) {
					t.Fatalf("round %d: rejected %+v changed the state", round, ev)
				}
			}()
		}
	}
}
