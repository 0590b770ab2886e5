// This file implements the vouch a node gives for a call it forwards:
// the forwarding node's id and its client's address travel in headers
// (ForwardedByHeader, ForwardedForHeader), which any client can set too,
// so the node adds an HMAC over them, the call's method and path and
// the time, keyed with a key derived from the nodes' shared token
// (ForwardedVouchHeader). The node that receives the call believes the
// two headers only when the vouch verifies and is fresh; the audit of a
// call that claims them without it keeps the connection's own address.

package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ForwardedVouchHeader carries, on a forwarded call, the forwarding
// node's vouch for its ForwardedByHeader and ForwardedForHeader:
// "v1 UNIXSECONDS MAC", MAC the unpadded base64url HMAC-SHA256, keyed
// with [ForwardKey], of the node, the client's address, the method, the
// path and the time.
const ForwardedVouchHeader = "Knhk-Forwarded-Vouch"

// ForwardVouchSkew is how far a vouch's time may be from the receiving
// node's clock: a forwarded call reaches the leader at once, and the
// nodes' clocks may differ by this much.
const ForwardVouchSkew = 5 * time.Minute

// maxVouch bounds the vouch header a receiving node reads.
const maxVouch = 128

// ForwardKey derives the key that vouches for forwarded calls from the
// nodes' token (the bearer token itself never keys a MAC); nil for no
// token: such a node vouches for nothing and believes no claim.
func ForwardKey(token string) []byte {
	if token == "" {
		return nil
	}
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("knhk forwarded-for vouch v1"))
	return m.Sum(nil)
}

// VouchForwarded marks h, the header of a call to method path that node
// by forwards for the client at client, with both and, when key is not
// nil, with the vouch for them at now.
func VouchForwarded(h http.Header, key []byte, by, client, method, path string, now time.Time) {
	h.Set(ForwardedByHeader, by)
	h.Set(ForwardedForHeader, client)
	h.Del(ForwardedVouchHeader) // a client's own never travels on
	if key == nil {
		return
	}
	ts := now.Unix()
	h.Set(ForwardedVouchHeader, "v1 "+strconv.FormatInt(ts, 10)+" "+base64.RawURLEncoding.EncodeToString(vouchMAC(key, by, client, method, path, ts)))
}

// vouchMAC is the MAC of a vouch: each field length-prefixed, so that
// no two different claims share their input.
func vouchMAC(key []byte, by, client, method, path string, ts int64) []byte {
	m := hmac.New(sha256.New, key)
	var n [binary.MaxVarintLen64]byte
	for _, f := range []string{"knhk forwarded v1", by, client, method, path, strconv.FormatInt(ts, 10)} {
		m.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
		m.Write([]byte(f))
	}
	return m.Sum(nil)
}

// ErrForwardUnvouched is wrapped by [VerifyForwarded]'s error for a
// call whose forwarding claim key does not vouch for.
var ErrForwardUnvouched = errors.New("unvouched forwarding claim")

// VerifyForwarded returns the forwarding node and the client address
// r's headers claim, claimed false when r claims no forwarding at all;
// err is nil only when key vouches for both, for r's method and path,
// within [ForwardVouchSkew] of now (compared in constant time), and
// otherwise wraps [ErrForwardUnvouched], quoting the claim (cut to
// [MaxForwardClaim] bytes each) and saying why.
func VerifyForwarded(r *http.Request, key []byte, now time.Time) (by, client string, claimed bool, err error) {
	by, client = r.Header.Get(ForwardedByHeader), r.Header.Get(ForwardedForHeader)
	v := r.Header.Get(ForwardedVouchHeader)
	if by == "" && client == "" && v == "" {
		return "", "", false, nil
	}
	if why := checkVouch(key, v, by, client, r.Method, r.URL.Path, now); why != "" {
		return by, client, true, fmt.Errorf("%w by %s for %s: %s", ErrForwardUnvouched, quoteClaim(by), quoteClaim(client), why)
	}
	return by, client, true, nil
}

// MaxForwardClaim bounds how much of a claimed header an error quotes.
const MaxForwardClaim = 256

func quoteClaim(s string) string {
	if len(s) > MaxForwardClaim {
		return strconv.Quote(s[:MaxForwardClaim]) + "..."
	}
	return strconv.Quote(s)
}

// checkVouch says why vouch v does not vouch for the claim of by and
// client on a call of method to path; "" when it does.
func checkVouch(key []byte, v, by, client, method, path string, now time.Time) string {
	switch {
	case key == nil:
		return "this node has no nodes' token to check it with"
	case v == "":
		return "no " + ForwardedVouchHeader + " header"
	case len(v) > maxVouch:
		return fmt.Sprintf("%s header of %d bytes", ForwardedVouchHeader, len(v))
	case by == "" || client == "":
		return fmt.Sprintf("%s and %s are both needed", ForwardedByHeader, ForwardedForHeader)
	}
	f := strings.Split(v, " ")
	if len(f) != 3 || f[0] != "v1" {
		return ForwardedVouchHeader + ` is not "v1 TIME MAC"`
	}
	ts, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || f[1] != strconv.FormatInt(ts, 10) {
		return fmt.Sprintf("%s time %q is not a number of seconds", ForwardedVouchHeader, f[1])
	}
	mac, err := base64.RawURLEncoding.DecodeString(f[2])
	if err != nil {
		return ForwardedVouchHeader + " MAC is not base64url"
	}
	if !hmac.Equal(mac, vouchMAC(key, by, client, method, path, ts)) {
		return "its MAC does not verify with the nodes' key"
	}
	if d := now.Sub(time.Unix(ts, 0)); d > ForwardVouchSkew || d < -ForwardVouchSkew {
		return fmt.Sprintf("vouched at %s, %s from this node's clock (at most %s)",
			time.Unix(ts, 0).UTC().Format(time.RFC3339), d.Round(time.Second), ForwardVouchSkew)
	}
	return ""
}
