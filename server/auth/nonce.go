// This file implements request nonces: the headers that make a captured
// request impossible to replay against knhk serve --tenants (the server
// side is server/tenant's replay guard).

package auth

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// The headers of a request nonce: NonceHeader is a random value used for
// one request only, RequestTimeHeader the client's clock when it sent it
// (Unix milliseconds), which bounds how long the server must remember
// the nonce.
const (
	NonceHeader       = "Knhk-Nonce"
	RequestTimeHeader = "Knhk-Request-Time"
)

// nonceRE is what a nonce may be: 16 to 128 base64url characters (at
// least 96 bits of randomness when the client draws them at random).
var nonceRE = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)

// SetNonce sets a fresh nonce and the time now on h.
func SetNonce(h http.Header, now time.Time) {
	var b [18]byte
	rand.Read(b[:])
	h.Set(NonceHeader, base64.RawURLEncoding.EncodeToString(b[:]))
	h.Set(RequestTimeHeader, strconv.FormatInt(now.UnixMilli(), 10))
}

// Nonce returns the nonce and time of h; ok is false when h carries
// neither header, and err says what is wrong when it carries a bad one.
func Nonce(h http.Header) (nonce string, at time.Time, ok bool, err error) {
	nonce, ts := h.Get(NonceHeader), h.Get(RequestTimeHeader)
	if nonce == "" && ts == "" {
		return "", time.Time{}, false, nil
	}
	if !nonceRE.MatchString(nonce) {
		return "", time.Time{}, true, fmt.Errorf("bad %s header %.40q: want 16 to 128 base64url characters", NonceHeader, nonce)
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ms <= 0 {
		return "", time.Time{}, true, fmt.Errorf("bad %s header %.40q: want Unix milliseconds", RequestTimeHeader, ts)
	}
	return nonce, time.UnixMilli(ms), true, nil
}

// NonceClient is an HTTP client that sets a fresh nonce on every request
// it sends (client.WithHTTPClient(auth.NonceClient{Base:
// http.DefaultClient})): a retry is a new request with a new nonce, so
// it passes where a replay of the captured bytes is refused.
type NonceClient struct {
	Base interface {
		Do(*http.Request) (*http.Response, error)
	}
}

// Do sends a copy of r with a fresh nonce.
func (c NonceClient) Do(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	SetNonce(r.Header, time.Now())
	base := c.Base
	if base == nil {
		base = http.DefaultClient
	}
	return base.Do(r)
}
