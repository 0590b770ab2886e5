// This file implements what a request nonce is bound to: the caller and
// a digest of the request's bytes, with its request_id, so that the same
// request sent again by a client that timed out is told apart from a
// captured one replayed with another purpose (replay.go).

package tenant

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/knhk/knhk/server/auth"
)

// binding is what a nonce was first sent with. digest is "" when the
// request could not be read whole (over the body limit): such a nonce
// is never taken for a retry.
type binding struct {
	digest string
	req    string // the request's request_id, "" for none
}

// requestBinding reads r's body (at most max bytes; it puts it back)
// and returns its binding to the caller p: the digest covers p's tenant
// and subject, the method and path, the content type and the body, so
// a captured request sent with another body, to another method or by
// another caller differs from it.
func requestBinding(r *http.Request, p auth.Principal, max int64) binding {
	body, err := peekBody(r, max)
	if err != nil {
		return binding{}
	}
	h := sha256.New()
	for _, s := range []string{"knhk request binding v1", p.Tenant, p.Subject, r.Method, r.URL.Path, r.Header.Get("Content-Type")} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(body)
	b := binding{digest: hex.EncodeToString(h.Sum(nil))}
	if md := method(r); md != nil && r.Method == http.MethodPost {
		if m, ok := decodeMessage(r, md.Input(), body); ok {
			if fd := md.Input().Fields().ByName(protoreflect.Name("request_id")); fd != nil && fd.Kind() == protoreflect.StringKind {
				b.req = m.Get(fd).String()
			}
		}
	}
	return b
}

// retries reports whether b, a nonce's second use, is its first use
// first sent again: the same caller and bytes, with a request id that
// makes the method answer it with the first attempt's result rather
// than act twice.
func (b binding) retries(first binding) bool {
	return b.digest != "" && b.req != "" && b == first
}

// unlike says, for a refusal, how b differs from first.
func (b binding) unlike(first binding) string {
	switch {
	case b.digest == "" || first.digest == "":
		return ""
	case b.digest != first.digest:
		return " by another request (a retry must resend the same request)"
	case b.req == "":
		return " (a request sent again with the same nonce needs a request_id, or it would act twice)"
	}
	return ""
}

// errBodyLimit is peekBody's answer to a body over its limit.
var errBodyLimit = errors.New("request body over the limit")

// peekBody reads r's body, at most max bytes (1 MiB when max is not
// in 1..1 MiB), and puts it back for the handler.
func peekBody(r *http.Request, max int64) ([]byte, error) {
	if max <= 0 || max > 1<<20 {
		max = 1 << 20
	}
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	if err == nil && int64(len(b)) > max {
		err = errBodyLimit
	}
	return b, err
}

type bindKey struct{}

// withBind returns ctx carrying the digest its request's nonce is bound
// to, for OneTimeKeys.
func withBind(ctx context.Context, digest string) context.Context {
	if digest == "" {
		return ctx
	}
	return context.WithValue(ctx, bindKey{}, digest)
}
