package auth

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNonceRoundTrip(t *testing.T) {
	h := http.Header{}
	now := time.UnixMilli(1764669600123)
	SetNonce(h, now)
	n, at, ok, err := Nonce(h)
	if err != nil || !ok || len(n) != 24 || !at.Equal(now) {
		t.Fatalf("%q %v %v %v", n, at, ok, err)
	}
	h2 := http.Header{}
	SetNonce(h2, now)
	if h2.Get(NonceHeader) == n {
		t.Error("two nonces alike")
	}
	if _, _, ok, err := Nonce(http.Header{}); ok || err != nil {
		t.Errorf("no headers: %v %v", ok, err)
	}
	for _, c := range []struct{ nonce, ts, msg string }{
		{"short", "1", "bad Knhk-Nonce header"},
		{strings.Repeat("a", 16) + "/", "1", "bad Knhk-Nonce header"},
		{strings.Repeat("a", 16), "", "bad Knhk-Request-Time header"},
		{strings.Repeat("a", 16), "-5", "bad Knhk-Request-Time header"},
		{"", "1", "bad Knhk-Nonce header"},
	} {
		h := http.Header{}
		h.Set(NonceHeader, c.nonce)
		h.Set(RequestTimeHeader, c.ts)
		if _, _, ok, err := Nonce(h); !ok || err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: %v %v", c, ok, err)
		}
	}
}

// FuzzNonce: no header value panics Nonce; an accepted nonce matches its
// pattern and a positive time.
func FuzzNonce(f *testing.F) {
	f.Add("abcdefghijklmnopqrstuvwx", "1764669600123")
	f.Add("", "")
	f.Add("a", "x")
	f.Fuzz(func(t *testing.T, nonce, ts string) {
		h := http.Header{}
		h.Set(NonceHeader, nonce)
		h.Set(RequestTimeHeader, ts)
		n, at, ok, err := Nonce(h)
		if err != nil || !ok {
			return
		}
		if !nonceRE.MatchString(n) || at.UnixMilli() <= 0 {
			t.Fatalf("accepted %q %q as %q %v", nonce, ts, n, at)
		}
	})
}
