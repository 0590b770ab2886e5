package client

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// recordingClient keeps the request it is given.
type recordingClient struct{ got *http.Request }

func (c *recordingClient) Do(r *http.Request) (*http.Response, error) {
	c.got = r
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// opaqueBody is a body net/http cannot tell is in memory, as Connect's.
type opaqueBody struct{ io.Reader }

func (opaqueBody) Close() error { return nil }

// TestOneWrite: a small body of known length reaches the transport in
// memory (so net/http writes it with the headers), whole, re-readable
// through GetBody, and the caller's request is left as it was; a body
// of unknown length passes as it is.
func TestOneWrite(t *testing.T) {
	rc := &recordingClient{}
	body := opaqueBody{strings.NewReader(`{"queue":"q"}`)}
	r, _ := http.NewRequest(http.MethodPost, "http://x/knhk.v1.KnhkService/PollTask", body)
	r.ContentLength = 13
	if _, err := (oneWrite{next: rc}).Do(r); err != nil {
		t.Fatal(err)
	}
	if rc.got == r || r.Body != io.ReadCloser(body) {
		t.Fatal("the caller's request was changed")
	}
	if _, ok := rc.got.Body.(io.WriterTo); !ok {
		t.Fatalf("body %T is not in memory", rc.got.Body)
	}
	for range 2 {
		b, _ := io.ReadAll(rc.got.Body)
		if string(b) != `{"queue":"q"}` {
			t.Fatalf("body %q", b)
		}
		var err error
		if rc.got.Body, err = rc.got.GetBody(); err != nil {
			t.Fatal(err)
		}
	}
	stream := opaqueBody{bytes.NewReader(nil)}
	r, _ = http.NewRequest(http.MethodPost, "http://x/s", stream)
	r.ContentLength = -1
	(oneWrite{next: rc}).Do(r)
	if rc.got != r {
		t.Fatal("a stream's request was replaced")
	}
}
