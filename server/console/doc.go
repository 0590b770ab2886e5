// Package console is the web console of knhk serve, served at "/": a
// list of cases with filters, a case page (its workflow drawn as SVG with
// the current marking highlighted, the user-level history, queries, the
// input and the result, and a form that delivers a signal), and the
// deployed programs with their source.
//
// The pages are plain HTML, JavaScript and CSS embedded with go:embed, so
// running the console needs no Node build step. They call the server's
// Connect API as JSON over HTTP POST for everything it offers (listing,
// starting, signalling and querying cases, listing programs) and, for what
// only a page needs, three GET endpoints under /console/api/ that this
// package serves from the [server.Service] in process: a case as the
// console shows it, a program's source, and the SVG of a workflow. Those
// endpoints sit behind the same bearer token as the API; the static
// assets hold no data and are public, and the page asks for the token
// when a call is refused.
//
// The drawing is the view of compiler/view, laid out by Graphviz's dot
// when it is installed and by the built-in layered layout of
// compiler/view otherwise.
package console
