// This file implements completions that do not wait: a server that
// takes many workers' outcomes on streams applies each as it arrives and
// acknowledges it when the engine's record comes, with no goroutine
// parked per outcome in between.

package queue

import "encoding/json"

// CompleteThen is [Broker.Complete] without the wait: the attempt ends
// (and the engine goes on) before it returns, and then is called once
// with what Complete would have returned: at once for a refusal or a
// job that is not durable, else when the engine records the outcome
// ([Broker.Recorded], on its goroutine) or the broker's RecordWait
// passes. then must be quick.
func (b *Broker) CompleteThen(id, token string, result json.RawMessage, then func(error)) {
	e, _, err := b.complete(id, token, result, then)
	if err != nil || !e.job.Durable {
		then(err)
	}
}

// FailThen is [Broker.Fail] as CompleteThen is Complete.
func (b *Broker) FailThen(id, token, message string, then func(error)) {
	e, _, err := b.fail(id, token, message, then)
	if err != nil || !e.job.Durable {
		then(err)
	}
}
