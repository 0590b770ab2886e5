// This file implements knhk serve --bft --license: the validator offers
// its licence to the chain, which takes it when it verifies against the
// licence issuer keys of the genesis (knhk cluster bft-init
// --license-trust) and is not older than the chain's; every validator
// then decides the cluster's own starts by the chain's licence
// (runtime/cluster/bft chainlicence.go).

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/rpc/client/local"

	"github.com/knhk/knhk/runtime/cluster/bft"
	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/sign"
)

// offerLicence offers lic, whose file holds b, to the chain until the
// chain holds it or a newer one, or ctx ends; a refusal is logged once
// per reason.
func offerLicence(ctx context.Context, app *bft.App, n *node.Node, lic *license.License, b []byte, logger *slog.Logger) {
	key, err := bft.Key(n)
	if err != nil {
		logger.Error(fmt.Sprintf("--license: %v", err))
		return
	}
	client := local.New(n)
	var last string
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		if app.ChainID() == "" {
			continue // the genesis is not applied yet
		}
		if cur := app.Licence(); cur != nil && (cur.ID == lic.ID || cur.Issued.After(lic.Issued)) {
			if cur.ID == lic.ID {
				logger.Info(fmt.Sprintf("the chain holds licence %s (%s)", lic.ID, lic.Describe(time.Now())))
			} else {
				logger.Warn(fmt.Sprintf("--license %s: the chain holds a newer licence, %s", lic.ID, cur.ID))
			}
			return
		}
		if err := app.OfferLicence(ctx, client, key, b); err != nil && err.Error() != last {
			last = err.Error()
			logger.Error(fmt.Sprintf("--license %s: %v", lic.ID, err))
		}
	}
}

// readPEMKeys reads public keys in PEM: a file, or the .pub files of a
// directory; each must parse.
func readPEMKeys(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	files := []string{path}
	if fi.IsDir() {
		ents, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		files = nil
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".pub") {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s holds no .pub file", path)
		}
	}
	var out []string
	for _, f := range files {
		b, err := readSmall(f)
		if err != nil {
			return nil, err
		}
		if _, err := sign.ParsePublicKey(b); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, string(b))
	}
	return out, nil
}
