package server

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestVerifyForwarded: a node's vouch verifies for the call it was made
// for, and a claim changed in any part, vouched for with another key,
// stale, from the future, malformed or not vouched for at all is
// refused naming why, as is every claim on a node with no token.
func TestVerifyForwarded(t *testing.T) {
	key, now := ForwardKey("the-nodes-token"), time.Unix(1_800_000_000, 0)
	call := func(mod func(r *http.Request)) *http.Request {
		r := httptest.NewRequest("POST", "/knhk.v1.KnhkService/StartCase?x=1", nil)
		VouchForwarded(r.Header, key, "n2", "10.0.0.7:5151", "POST", "/knhk.v1.KnhkService/StartCase", now)
		if mod != nil {
			mod(r)
		}
		return r
	}
	by, client, claimed, err := VerifyForwarded(call(nil), key, now.Add(ForwardVouchSkew))
	if err != nil || !claimed || by != "n2" || client != "10.0.0.7:5151" {
		t.Fatalf("a genuine vouch: %q %q %v %v", by, client, claimed, err)
	}
	if _, _, claimed, err := VerifyForwarded(httptest.NewRequest("POST", "/", nil), key, now); claimed || err != nil {
		t.Fatalf("a call that claims nothing: %v %v", claimed, err)
	}
	other := ForwardKey("another-token")
	for _, tc := range []struct {
		name string
		mod  func(r *http.Request)
		key  []byte
		at   time.Time
		want string
	}{
		{"another client", func(r *http.Request) { r.Header.Set(ForwardedForHeader, "203.0.113.9:7") }, key, now, "MAC does not verify"},
		{"another node", func(r *http.Request) { r.Header.Set(ForwardedByHeader, "n3") }, key, now, "MAC does not verify"},
		{"another method", func(r *http.Request) { r.Method = "PUT" }, key, now, "MAC does not verify"},
		{"another path", func(r *http.Request) { r.URL.Path = "/knhk.v1.KnhkService/CancelCase" }, key, now, "MAC does not verify"},
		{"another time", func(r *http.Request) {
			v := r.Header.Get(ForwardedVouchHeader)
			r.Header.Set(ForwardedVouchHeader, strings.Replace(v, "1800000000", "1800000001", 1))
		}, key, now, "MAC does not verify"},
		{"another key", nil, other, now, "MAC does not verify"},
		{"stale", nil, key, now.Add(ForwardVouchSkew + time.Second), "from this node's clock"},
		{"future", nil, key, now.Add(-ForwardVouchSkew - time.Second), "from this node's clock"},
		{"no vouch", func(r *http.Request) { r.Header.Del(ForwardedVouchHeader) }, key, now, "no Knhk-Forwarded-Vouch header"},
		{"vouch alone", func(r *http.Request) { r.Header.Del(ForwardedByHeader); r.Header.Del(ForwardedForHeader) }, key, now, "are both needed"},
		{"no token", nil, nil, now, "no nodes' token"},
		{"version", func(r *http.Request) { r.Header.Set(ForwardedVouchHeader, "v2 1 AA") }, key, now, `not "v1 TIME MAC"`},
		{"time", func(r *http.Request) { r.Header.Set(ForwardedVouchHeader, "v1 01800000000 AA") }, key, now, "not a number of seconds"},
		{"mac", func(r *http.Request) { r.Header.Set(ForwardedVouchHeader, "v1 1800000000 !!") }, key, now, "not base64url"},
		{"long", func(r *http.Request) { r.Header.Set(ForwardedVouchHeader, strings.Repeat("A", 200)) }, key, now, "of 200 bytes"},
	} {
		by, client, claimed, err := VerifyForwarded(call(tc.mod), tc.key, tc.at)
		if !claimed || !errors.Is(err, ErrForwardUnvouched) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "by "+quoteClaim(by)+" for "+quoteClaim(client)) {
			t.Errorf("%s: %v %v, want an error saying %q", tc.name, claimed, err, tc.want)
		}
	}
	// A client's own vouch header never travels on with a forward made
	// without a key.
	h := http.Header{ForwardedVouchHeader: {"v1 1 AA"}}
	VouchForwarded(h, nil, "n1", "10.0.0.1:1", "POST", "/", now)
	if h.Get(ForwardedVouchHeader) != "" || h.Get(ForwardedByHeader) != "n1" {
		t.Fatalf("a forward without a key: %v", h)
	}
	long := strings.Repeat("x", 2*MaxForwardClaim)
	_, _, _, err = VerifyForwarded(call(func(r *http.Request) { r.Header.Set(ForwardedForHeader, long) }), key, now)
	if err == nil || strings.Contains(err.Error(), long[:MaxForwardClaim+1]) {
		t.Fatalf("a long claim is quoted whole: %v", err)
	}
}

// FuzzVerifyForwarded: whatever the headers, VerifyForwarded never
// panics, believes a claim only when the vouch is the one the node
// would have made for it, and quotes the claim in its error.
func FuzzVerifyForwarded(f *testing.F) {
	key, now := ForwardKey("t"), time.Unix(1_800_000_000, 0)
	good := http.Header{}
	VouchForwarded(good, key, "n1", "10.0.0.1:1", "POST", "/p", now)
	f.Add("n1", "10.0.0.1:1", good.Get(ForwardedVouchHeader))
	f.Add("n1", "10.0.0.1:1", "v1 1800000000 AAAA")
	f.Add("", "", "v1  ")
	f.Add("n\"1", "x", "v1 -1 _-")
	f.Fuzz(func(t *testing.T, by, client, vouch string) {
		r := &http.Request{Method: "POST", URL: &url.URL{Path: "/p"}, Header: http.Header{}}
		r.Header[ForwardedByHeader] = []string{by}
		r.Header[ForwardedForHeader] = []string{client}
		r.Header[ForwardedVouchHeader] = []string{vouch}
		gotBy, gotClient, claimed, err := VerifyForwarded(r, key, now)
		if claimed != (by != "" || client != "" || vouch != "") {
			t.Fatalf("claimed %v for %q %q %q", claimed, by, client, vouch)
		}
		if err == nil && claimed {
			f := strings.Split(vouch, " ")
			if len(f) != 3 || gotBy != by || gotClient != client {
				t.Fatalf("believed %q %q with %q", by, client, vouch)
			}
			ts, perr := strconv.ParseInt(f[1], 10, 64)
			again := http.Header{}
			VouchForwarded(again, key, by, client, "POST", "/p", time.Unix(ts, 0))
			if perr != nil || again.Get(ForwardedVouchHeader) != vouch {
				t.Fatalf("believed %q %q with %q, not the node's %q", by, client, vouch, again.Get(ForwardedVouchHeader))
			}
		}
		if err != nil && !strings.Contains(err.Error(), "by "+quoteClaim(by)) {
			t.Fatalf("the error does not quote the claim: %v", err)
		}
	})
}
