// Command knhk-lsp-test runs the language server on standard input and
// output. It exists so that the end-to-end editor tests can build a server
// binary without depending on the CLI; users run "knhk lsp".
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/knhk/knhk/lsp"
)

func main() {
	if err := lsp.Serve(context.Background(), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "knhk-lsp-test:", err)
		os.Exit(1)
	}
}
