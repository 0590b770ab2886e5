// This file implements the crypto-shredding of a tenant served by a raft
// cluster (knhk serve --node --tenants): a tenant created with
// --encrypt has every node's copy of its raft group (log entries and
// snapshots) sealed at rest with a key of that node's own
// (runtime/cluster's Config.AtRest), kept as a data key of
// runtime/audit's Keys in the group's directory, sealed for the node's
// own sealing key of the tenant (X-Wing, runtime/seal), which never
// leaves the node. Erasing the tenant (knhk case erase --server URL
// --tenant T --all, or knhk tenant erase --server URL T) commits the
// erasure to the cluster's own log; every node that applies it closes
// the tenant's group, destroys its key (the erasure recorded first)
// and removes its copy, so that whatever survives of it on any node's
// disk, or in a backup, is ciphertext nothing can open. The cluster's
// own log, which records the erasure, and every node's audit log stay
// whole.

package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"connectrpc.com/connect"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/server/auth"
)

// raftKeyID names the data key that seals a group's raft data among the
// group's Keys.
const raftKeyID = "knhk:raft"

// raftKeyAAD binds a sealed entry to its use.
var raftKeyAAD = []byte("knhk raft at rest")

// groupSealer is a cluster.CaseSealer with a group's AES-256-GCM key,
// and a key of each case's own (caseKeyPrefix and the case id among the
// group's Keys) that knhk case erase --server destroys on every node.
type groupSealer struct {
	aead cipher.AEAD
	keys *audit.Keys
}

// caseKeyPrefix and a case id name the case's key among a group's Keys.
const caseKeyPrefix = "knhk:raft-case:"

func (g *groupSealer) SealCase(id string, p []byte) ([]byte, error) {
	b, err := g.keys.SealBytes(caseKeyPrefix+id, p)
	if errors.Is(err, audit.ErrErased) {
		return nil, fmt.Errorf("%w: %v", cluster.ErrCaseForgotten, err)
	}
	return b, err
}

func (g *groupSealer) OpenCase(id string, c []byte) ([]byte, error) {
	return g.keys.OpenBytes(caseKeyPrefix+id, c)
}

func (g *groupSealer) Holds(id string) bool { return g.keys.Holds(caseKeyPrefix + id) }

func (g *groupSealer) Forget(id string) error { return g.keys.EraseCase(caseKeyPrefix + id) }

// openGroupSealer returns the sealer of the group in dir, making its key
// on first use.
func openGroupSealer(dir string) (*groupSealer, error) {
	k, err := audit.OpenKeys(dir)
	if err != nil {
		return nil, err
	}
	key, err := k.CaseKey(raftKeyID, true)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &groupSealer{aead: a, keys: k}, nil
}

func (g *groupSealer) Seal(p []byte) ([]byte, error) {
	nonce := make([]byte, g.aead.NonceSize(), g.aead.NonceSize()+len(p)+g.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.aead.Seal(nonce, nonce, p, raftKeyAAD), nil
}

func (g *groupSealer) Open(c []byte) ([]byte, error) {
	n := g.aead.NonceSize()
	if len(c) < n+g.aead.Overhead() {
		return nil, errors.New("a sealed entry too short to hold its nonce and tag")
	}
	return g.aead.Open(nil, c[:n], c[n:], raftKeyAAD)
}

// shredGroup destroys the key of the group in dir, when it has one (the
// erasure is recorded first), then removes the directory.
func shredGroup(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, audit.Dir, audit.KeysDir)); err == nil {
		k, err := audit.OpenKeys(dir)
		if err == nil {
			err = k.EraseTenant()
		}
		if err != nil {
			return fmt.Errorf("destroying the key of %s: %w", dir, err)
		}
	}
	return os.RemoveAll(dir)
}

// eraseGroup is the tenant host's GroupEraser (POST /erase?tenant=ID on
// any node): it commits tenant id's erasure through the cluster's
// leader, retrying while no leader answers.
func (ct *clusterTenants) eraseGroup(ctx context.Context, id string) error {
	q := &tenantAdminRequest{Op: "erase", ID: id, Req: auth.NewTokenID()}
	for {
		var code int
		var retry bool
		var err error
		if ct.own.IsLeader() {
			if _, err = ct.administer(ctx, q, auth.RoleAdmin, time.Hour); err != nil {
				code, retry = adminStatus(err) // as serveAdmin answers it
			}
		} else {
			code, retry, err = ct.forwardErase(ctx, q)
		}
		if err == nil {
			return nil
		}
		if !retry {
			c, ok := map[int]connect.Code{http.StatusNotFound: connect.CodeNotFound, http.StatusPreconditionFailed: connect.CodeFailedPrecondition,
				http.StatusConflict: connect.CodeFailedPrecondition}[code]
			if !ok {
				return err // the host answers it as it answers an eraser's failure
			}
			return connect.NewError(c, err)
		}
		select {
		case <-ctx.Done():
			return connect.NewError(connect.CodeUnavailable, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// forwardErase posts q to the cluster's leader with the nodes' token.
func (ct *clusterTenants) forwardErase(ctx context.Context, q *tenantAdminRequest) (int, bool, error) {
	_, api := ct.own.Leader()
	if api == "" {
		return 0, true, ct.own.NotLeader()
	}
	b, _ := json.Marshal(q)
	code, resp, err := nodeCall(ctx, ct.client, http.MethodPost, api, tenantsPath, b, ct.token)
	if err != nil {
		return 0, true, err
	}
	if code == http.StatusOK {
		return code, false, nil
	}
	return code, retryable(resp), errors.New(errorText(resp))
}
