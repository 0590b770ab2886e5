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
// Notifications (didOpen, didChange, ...) and the lifecycle requests run
// in arrival order on the connection's read loop. Every other request takes
// a view of the state as it arrives (the open documents, which are never
// modified in place) and then runs on its own goroutine, so a request sees
// every text change sent before it and none sent after, and a slow request
// on a large file blocks neither edits nor other requests. $/cancelRequest
// answers a running request with RequestCancelled at once. Analyses are
// cached per document version and shared, so diagnostics and the requests
// after an edit check the file once. Diagnostics are computed on their own
// goroutines after a short debounce and published only if the document has
// not changed since.
package server
