package queue

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// TestCompleteThen: CompleteThen and FailThen end the attempt at once
// (the engine has the outcome when they return) and call then once with
// what Complete and Fail would return: at once for a refusal or a job
// that is not durable, else with the engine's record, or ErrNotRecorded
// for a failed write or none within RecordWait.
func TestCompleteThen(t *testing.T) {
	slow, quick := New(Options{RecordWait: time.Hour}), New(Options{RecordWait: time.Millisecond})
	for _, tc := range []struct {
		name    string
		b       *Broker
		durable bool
		fail    bool
		token   string // "" for the delivery's own
		record  func(b *Broker, id string)
		want    error
	}{
		{"recorded", slow, true, false, "", func(b *Broker, id string) { b.Recorded(id, nil) }, nil},
		{"failed and recorded", slow, true, true, "", func(b *Broker, id string) { b.Recorded(id, nil) }, nil},
		{"write failed", slow, true, false, "", func(b *Broker, id string) { b.Recorded(id, errors.New("disk full")) }, ErrNotRecorded},
		{"never recorded", quick, true, false, "", nil, ErrNotRecorded},
		{"not durable", slow, false, false, "", nil, nil},
		{"stale token", slow, true, false, "stale", nil, ErrLeaseLost},
	} {
		j := job("then-" + tc.name)
		j.Durable = tc.durable
		res := submit(context.Background(), tc.b, j)
		tk := poll(t, tc.b, "billing", "w1")
		token := tk.Token
		if tc.token != "" {
			token = tc.token
		}
		got := make(chan error, 2)
		then := func(err error) { got <- err }
		if tc.fail {
			tc.b.FailThen(tk.ID, token, "no", then)
		} else {
			tc.b.CompleteThen(tk.ID, token, json.RawMessage(`1`), then)
		}
		if tc.token == "" {
			if o := <-res; (o.err != nil) != tc.fail {
				t.Fatalf("%s: the engine got %v %v", tc.name, o.val, o.err)
			}
		}
		if tc.record != nil {
			select {
			case err := <-got:
				t.Fatalf("%s: then(%v) before the record", tc.name, err)
			default:
			}
			tc.record(tc.b, tk.ID)
			tc.b.Recorded(tk.ID, nil) // a second word changes nothing
		}
		if err := <-got; !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
			t.Errorf("%s: then(%v), want %v", tc.name, err, tc.want)
		}
		select {
		case err := <-got:
			t.Errorf("%s: then called twice, the second time with %v", tc.name, err)
		default:
		}
		if tc.token != "" {
			tc.b.FailThen(tk.ID, tk.Token, "done", func(error) {})
			tc.b.Recorded(tk.ID, nil)
		}
	}
	for _, b := range []*Broker{slow, quick} {
		b.mu.Lock()
		if len(b.unrec) != 0 {
			t.Errorf("records still awaited: %v", b.unrec)
		}
		b.mu.Unlock()
	}
}
