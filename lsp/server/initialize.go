// This file implements the lifecycle: initialize, initialized, shutdown
// and exit, and the capabilities the server announces.

package server

import (
	"context"
	"time"

	"go.lsp.dev/protocol"

	"github.com/knhk/knhk/lsp/mapper"
)

// Initialize negotiates the position encoding (UTF-8 when the client offers
// it, since offsets are bytes everywhere else; otherwise the UTF-16
// default) and announces the server's capabilities.
func (s *Server) Initialize(ctx context.Context, params *protocol.InitializeParams) (*protocol.InitializeResult, error) {
	enc := protocol.PositionEncodingKindUTF16
	if g := params.Capabilities.General; g != nil {
		for _, e := range g.PositionEncodings {
			if e == protocol.PositionEncodingKindUTF8 {
				enc = e
			}
		}
	}
	var roots []string
	if folders, ok := params.WorkspaceFolders.Get(); ok {
		for _, f := range folders {
			roots = append(roots, uriPath(f.URI))
		}
	}
	if len(roots) == 0 && params.RootURI != nil && *params.RootURI != "" {
		roots = append(roots, uriPath(*params.RootURI))
	}
	s.mu.Lock()
	s.enc = encodingOf(enc)
	s.roots = roots
	s.initialized = true
	s.mu.Unlock()

	yes := true
	incremental := protocol.TextDocumentSyncKindIncremental
	return &protocol.InitializeResult{
		ServerInfo: protocol.ServerInfo{Name: "knhk", Version: protocol.NewOptional("0.1.0")},
		Capabilities: protocol.ServerCapabilities{
			PositionEncoding: enc,
			TextDocumentSync: &protocol.TextDocumentSyncOptions{OpenClose: &yes, Change: &incremental},
			CompletionProvider: &protocol.CompletionOptions{
				TriggerCharacters: []string{"."},
			},
			HoverProvider:              protocol.Boolean(true),
			SignatureHelpProvider:      &protocol.SignatureHelpOptions{TriggerCharacters: []string{"(", ","}},
			DefinitionProvider:         protocol.Boolean(true),
			ReferencesProvider:         protocol.Boolean(true),
			DocumentHighlightProvider:  protocol.Boolean(true),
			DocumentSymbolProvider:     protocol.Boolean(true),
			WorkspaceSymbolProvider:    protocol.Boolean(true),
			CodeActionProvider:         &protocol.CodeActionOptions{CodeActionKinds: []protocol.CodeActionKind{protocol.CodeActionKindQuickFix}},
			DocumentFormattingProvider: protocol.Boolean(s.opts.Format != nil),
			RenameProvider:             &protocol.RenameOptions{PrepareProvider: &yes},
			FoldingRangeProvider:       protocol.Boolean(true),
			SemanticTokensProvider: &protocol.SemanticTokensOptions{
				Legend: protocol.SemanticTokensLegend{TokenTypes: tokenTypes, TokenModifiers: tokenModifiers},
				Full:   protocol.Boolean(true),
			},
		},
	}, nil
}

// Initialized needs no action.
func (s *Server) Initialized(ctx context.Context, params *protocol.InitializedParams) error {
	return nil
}

// Shutdown stops diagnostics; the connection stays up until exit.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	s.mu.Unlock()
	s.diag.stop()
	// Requests that arrived before shutdown are answered first (within a
	// grace period): the client sends exit once shutdown is answered, and
	// exit closes the stream.
	s.requests.answers.wait(shutdownGrace)
	return nil
}

// shutdownGrace bounds how long shutdown waits for earlier answers.
const shutdownGrace = 2 * time.Second

// Exit ends Serve.
func (s *Server) Exit(ctx context.Context) error {
	s.exitOnce.Do(func() { close(s.exit) })
	return nil
}

// SetTrace is accepted and ignored.
func (s *Server) SetTrace(ctx context.Context, params *protocol.SetTraceParams) error { return nil }

// DidChangeConfiguration is accepted and ignored: the server has no settings.
func (s *Server) DidChangeConfiguration(ctx context.Context, params *protocol.DidChangeConfigurationParams) error {
	return nil
}

func encodingOf(k protocol.PositionEncodingKind) mapper.Encoding {
	switch k {
	case protocol.PositionEncodingKindUTF8:
		return mapper.UTF8
	case protocol.PositionEncodingKindUTF32:
		return mapper.UTF32
	}
	return mapper.UTF16
}
