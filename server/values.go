// This file implements the JSON of a case's result, with
// runtime/caseio, where the CLI and the server share how inputs,
// payloads, waits, queries and results are read and written.

package server

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/caseio"
	"github.com/knhk/knhk/runtime/eval"
)

// resultJSON encodes the result of a completed case of net; "" for void.
func resultJSON(p *ir.Program, net *ir.Net, result eval.Value) (string, error) {
	b, err := caseio.Result(p, net, result)
	return string(b), err
}
