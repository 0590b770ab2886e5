// This file implements DeploySigned: a deploy that carries the
// descriptor's signature, for a server started with --trust.

package client

import (
	"context"
	"encoding/base64"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
)

// SignatureHeader carries a deploy's signature file (base64), so that a
// server started with --trust checks it. A header keeps DeployRequest as
// it is: a server that does not check signatures ignores it.
const SignatureHeader = "Knhk-Descriptor-Signature"

// DeploySigned is Deploy with sigs, the contents of a signature file
// (knhk sign) of the program's descriptor, sent along; nil sends none.
func (c *Client) DeploySigned(ctx context.Context, name string, source, sigs []byte) (*knhkv1.DeployResponse, error) {
	req := connect.NewRequest(&knhkv1.DeployRequest{Name: name, Source: string(source)})
	if len(sigs) > 0 {
		req.Header().Set(SignatureHeader, base64.StdEncoding.EncodeToString(sigs))
	}
	r, err := c.api.Deploy(ctx, req)
	if err != nil {
		return nil, err
	}
	return r.Msg, nil
}
