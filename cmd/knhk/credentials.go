// This file implements where the CLI finds its bearer token for --server.

package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/knhk/knhk/server/auth"
)

// bearerToken returns the token the case commands send to a knhk serve:
// $KNHK_TOKEN; else the content of the file $KNHK_TOKEN_FILE; else of
// knhk/token in the user's config directory ($XDG_CONFIG_HOME or
// ~/.config on Linux), when it exists. White space around it is dropped.
func bearerToken() (string, error) {
	if tok := os.Getenv("KNHK_TOKEN"); tok != "" {
		return tok, nil
	}
	path := os.Getenv("KNHK_TOKEN_FILE")
	explicit := path != ""
	if !explicit {
		dir, err := os.UserConfigDir()
		if err != nil {
			return "", nil
		}
		path = filepath.Join(dir, "knhk", "token")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if !explicit && os.IsNotExist(err) {
			return "", nil
		}
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// nonceClient is the HTTP client of the case commands: it sets a fresh
// request nonce on every call (server/auth's NonceClient), which knhk
// serve --tenants --require-nonce needs of every call that changes data
// and which makes a captured call impossible to replay.
func nonceClient() auth.NonceClient { return auth.NonceClient{Base: http.DefaultClient} }
