// This file implements sealed tenants on a validator (knhk serve --bft
// --tenants; runtime/cluster/bft sealed.go): the validator reads which
// tenants are sealed and erased from the chain's tenancy (the registry
// knhk tenant create --encrypt and knhk tenant erase change), derives
// their keys from the seal root in its home, and once an erasure's key
// is destroyed removes its own files of the tenant (the task worker's
// directory under the home).

package main

import (
	"os"
	"path/filepath"

	"github.com/knhk/knhk/runtime/cluster/bft"
	"github.com/knhk/knhk/server/tenant"
)

// bftTenantSeals reads the tenants' sealing from the tenancy's
// registry.
func bftTenantSeals(files map[string][]byte) ([]bft.TenantSeal, error) {
	b, ok := files["tenants.json"]
	if !ok {
		return nil, nil
	}
	reg, err := tenant.ParseRegistry(b)
	if err != nil {
		return nil, err
	}
	var out []bft.TenantSeal
	for _, t := range reg.Tenants {
		out = append(out, bft.TenantSeal{ID: t.ID, Encrypt: t.Encrypt, Erased: !t.Erased.IsZero()})
	}
	return out, nil
}

// bftSealing gives app the seal root of home and, once a tenant's key
// is destroyed, removes the tenant's files under home.
func bftSealing(app *bft.App, home string) error {
	root, err := bft.LoadSealRoot(home)
	if err != nil {
		return err
	}
	app.SetSealing(root, bftTenantSeals)
	app.OnErased(func(id string) { os.RemoveAll(filepath.Join(home, "tenants", id)) })
	return nil
}
