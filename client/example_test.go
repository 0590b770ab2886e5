package client_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/server"
)

// serve starts a server on a temporary data directory, as knhk serve
// does, and returns its URL and a function that stops it.
func serve(opts server.MuxOptions) (string, func()) {
	dir, err := os.MkdirTemp("", "knhk-client")
	if err != nil {
		panic(err)
	}
	s, err := server.Open(dir, server.Options{IndexEvery: -1})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(server.NewMux(s, opts))
	return ts.URL, func() {
		ts.Close()
		s.Close(context.Background())
		os.RemoveAll(dir)
	}
}

const approval = `package approval

workflow Approve(order: string) -> string {
  select {
    on signal Decide(ok: bool) -> {
      choose {
        when ok -> { return order + " approved" }
        else -> { return order + " rejected" }
      }
    }
    on timer 48h -> { fail "nobody decided" }
  }
}
`

// A program is deployed, a case started, signalled and awaited.
func Example() {
	url, stop := serve(server.MuxOptions{})
	defer stop()
	ctx := context.Background()
	c := client.New(url)

	if _, err := c.Deploy(ctx, "approval.knhk", []byte(approval)); err != nil {
		fmt.Println(err)
		return
	}
	start, err := c.Start(ctx, &knhkv1.StartCaseRequest{Workflow: "Approve", InputJson: `"o-17"`, BusinessKey: "order o-17"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// A retry of the start (after a timeout, say) returns the same case.
	again, _ := c.Start(ctx, &knhkv1.StartCaseRequest{Workflow: "Approve", InputJson: `"o-17"`, BusinessKey: "order o-17"})
	fmt.Println("same case:", again.CaseId == start.CaseId, again.Existing)

	if _, err := c.Signal(ctx, start.CaseId, "Decide", `true`); err != nil {
		fmt.Println(err)
		return
	}
	sum, err := c.Wait(ctx, start.CaseId)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum.Status, sum.ResultJson)
	// Output:
	// same case: true true
	// completed "o-17 approved"
}

// A bad request fails with a Connect code and names the field at fault,
// with the message knhk run prints for the same input.
func ExampleBadInput() {
	url, stop := serve(server.MuxOptions{})
	defer stop()
	ctx := context.Background()
	c := client.New(url)
	c.Deploy(ctx, "approval.knhk", []byte(approval))

	_, err := c.Start(ctx, &knhkv1.StartCaseRequest{Workflow: "Approve", InputJson: `17`})
	fmt.Println(client.Code(err))
	fmt.Println(client.BadInput(err).Field)

	_, err = c.Deploy(ctx, "broken.knhk", []byte("package p\n\nworkflow W() -> int {\n  return nope\n}\n"))
	d := client.BadInput(err).Diagnostics[0]
	fmt.Printf("%s:%d:%d: %s\n", d.File, d.Line, d.Column, d.Message)
	// Output:
	// invalid_argument
	// input_json
	// broken.knhk:4:10: undefined: nope
}

// A case is started and its result awaited in one call.
func ExampleClient_StartAndWait() {
	url, stop := serve(server.MuxOptions{})
	defer stop()
	ctx := context.Background()
	c := client.New(url)
	if _, err := c.Deploy(ctx, "inc.knhk", []byte("package inc\n\nworkflow Inc(n: int) -> int {\n  return n + 1\n}\n")); err != nil {
		fmt.Println(err)
		return
	}
	sum, err := c.StartAndWait(ctx, &knhkv1.StartCaseRequest{Workflow: "Inc", InputJson: "41", RequestId: "inc-41"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum.Status, sum.ResultJson)
	// Output: completed 42
}
