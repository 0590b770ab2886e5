// This file implements "knhk lsp".

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/knhk/knhk/lsp"
)

var lspCmd = &command{
	name:      "lsp",
	usageLine: "knhk lsp",
	short:     "run the language server on standard input and output",
	long: `Lsp runs the KNHK language server, speaking the Language Server Protocol
over standard input and output. Editors start it; see docs/lsp.md for VS Code
and Neovim. It serves diagnostics (the same as knhk check, soundness errors
included), hover, completion, definition, references, rename, symbols,
formatting, semantic tokens, code actions, signature help and folding
ranges.

It exits 0 after a shutdown request followed by exit, and 1 when the client
sends exit without shutdown or closes the connection first.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		return func(e *env, args []string) int {
			if len(args) > 0 {
				return usageError(e, "unexpected arguments")
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			err := lsp.Serve(ctx, e.stdin, e.stdout)
			switch {
			case err == nil:
				return exitOK
			case errors.Is(err, lsp.ErrExitWithoutShutdown):
				return exitUser
			default:
				fmt.Fprintf(e.stderr, "knhk lsp: %v\n", err)
				return exitUser
			}
		}
	},
}
