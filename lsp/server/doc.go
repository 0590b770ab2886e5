// Package server implements the KNHK language server: one [Server] per
// connection, one file per LSP method family, in the manner of gopls's
// server package.
//
// Everything the server knows comes from the front end: diagnostics from
// check.CheckSource (with unsaved editor buffers served as imports through
// check.Config.ReadFile), names and types from check.Info, declarations and
// comments from the syntax tree, formatting from lang/format. Positions are
// byte offsets until the last moment, where package mapper turns them into
// LSP positions in the negotiated encoding.
//
// Requests are handled in arrival order on the connection's read loop, so a
// request always sees every text change sent before it; diagnostics are
// computed on their own goroutines after a debounce and published only if
// the document has not changed since.
package server
