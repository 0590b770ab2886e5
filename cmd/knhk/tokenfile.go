// This file implements reading the --token-file of knhk serve, shared by
// a single server and a cluster node so both refuse the same files with
// the same messages.

package main

import (
	"fmt"
	"os"
	"strings"
)

// readTokenFile returns the token in path (its content without
// surrounding white space), "" when path is "". On failure ok is false
// and the error is written.
func readTokenFile(e *env, path string) (token string, ok bool) {
	if path == "" {
		return "", true
	}
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: token file %s: %v\n", path, unwrapPathError(err))
		return "", false
	}
	if token = strings.TrimSpace(string(b)); token == "" {
		fmt.Fprintf(e.stderr, "knhk: the token file %s is empty\n", path)
		return "", false
	}
	return token, true
}
