// Package caseio is what every front of the engine (the knhk commands and
// knhk serve) does the same way with a case's values: a workflow's input
// and a signal's payload decoded from JSON and checked against their
// parameter types, the signals a case waits for, and its queries
// evaluated. One place decides, so that a mistake reads the same from
// the CLI and from the API.
package caseio
