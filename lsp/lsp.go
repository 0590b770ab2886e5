// This file implements Serve, the entry point of "knhk lsp".

// Package lsp is the KNHK language server's entry point: [Serve] runs it
// over a byte stream such as the standard input and output, which is what
// "knhk lsp" does. The server itself lives in lsp/server, the position
// mapping in lsp/mapper, and editor support in lsp/editors.
package lsp

import (
	"context"
	"io"

	"github.com/knhk/knhk/lang/format"
	"github.com/knhk/knhk/lsp/server"
)

// Serve runs one language-server session over in and out (LSP base
// protocol framing) until the client sends exit, in ends, or ctx is
// cancelled. Problems the client cannot be told about are logged to the
// standard logger.
func Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	return server.New(server.Options{Format: format.Bytes, Logf: server.StderrLogf}).Serve(ctx, in, out)
}

// ErrExitWithoutShutdown is returned by [Serve] when the client sent exit
// without shutdown; the LSP specification asks for exit status 1 then.
var ErrExitWithoutShutdown = server.ErrExitWithoutShutdown
