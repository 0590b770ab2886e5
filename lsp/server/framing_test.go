package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
)

// sendFramed writes body under a Content-Length of declared bytes,
// whatever its real length.
func (rc *rawConn) sendFramed(declared int, body string) {
	rc.t.Helper()
	_ = rc.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(rc.c, "Content-Length: %d\r\n\r\n%s", declared, body); err != nil {
		rc.t.Fatalf("send: %v", err)
	}
}

// symbolsRequest is a documentSymbol request with the given id.
func symbolsRequest(id int) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"textDocument/documentSymbol","params":{"textDocument":{"uri":"file:///w/a.knhk"}}}`, id)
}

// TestWrongContentLength sends frames whose Content-Length is too small or
// too large and checks that the server answers what it can, skips what it
// cannot, and keeps serving.
func TestWrongContentLength(t *testing.T) {
	rc, _ := newRaw(t)
	rc.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`)
	rc.recv()
	rc.send(`{"jsonrpc":"2.0","method":"initialized","params":{}}`)
	rc.send(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///w/a.knhk","languageId":"knhk","version":1,"text":"package p\n\nfn f() -> int = 1\n"}}}`)

	expect := func(what string, id float64) {
		t.Helper()
		m := rc.recv()
		if m["id"] != id || errCode(m) != 0 {
			t.Fatalf("%s: got %v, want the answer to request %v", what, m, id)
		}
	}

	// Too small: the truncated message is a parse error with id null; the
	// rest of it is skipped and the next frame is served.
	body := symbolsRequest(2)
	rc.sendFramed(len(body)-20, body)
	if m := rc.recv(); m["id"] != nil || errCode(m) != -32700 {
		t.Fatalf("too small: got %v, want a parse error with id null", m)
	}
	rc.send(symbolsRequest(3))
	expect("after a too-small frame", 3)

	// Too large, followed by another frame: both are served. (One write:
	// net.Pipe does not buffer, and the server answers the first before
	// it reads the second.)
	first, second := symbolsRequest(4), symbolsRequest(5)
	rc.sendFramed(len(first)+40, first+fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(second), second))
	// Requests run concurrently, so the answers may come in either order.
	got := map[any]bool{}
	for range 2 {
		m := rc.recv()
		if errCode(m) != 0 {
			t.Fatalf("too large: %v", m)
		}
		got[m["id"]] = true
	}
	if !got[4.0] || !got[5.0] {
		t.Fatalf("too large: answered %v, want requests 4 and 5", got)
	}

	// Too large, and nothing follows: the server must not wait for bytes
	// that will never come.
	rc.sendFramed(len(symbolsRequest(6))+1000, symbolsRequest(6))
	expect("too large, last", 6)

	// Junk between frames and a non-numeric length are skipped.
	_, _ = fmt.Fprintf(rc.c, "garbage line\r\nContent-Length: lots\r\n\r\n")
	rc.send(symbolsRequest(7))
	expect("after junk", 7)

	// A too-small frame whose tail has a newline in it.
	body = `{"jsonrpc":"2.0","id":8,"method":"textDocument/documentSymbol",` + "\n" + `"params":{"textDocument":{"uri":"file:///w/a.knhk"}}}`
	rc.sendFramed(30, body)
	if m := rc.recv(); m["id"] != nil || errCode(m) != -32700 {
		t.Fatalf("too small with a newline: got %v, want a parse error", m)
	}
	rc.send(symbolsRequest(9))
	expect("after a too-small frame with a newline", 9)
}

// TestJSONEnd checks the value-end scanner across chunk boundaries,
// strings with escaped quotes and brackets, and nesting.
func TestJSONEnd(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{`{}`, 2},
		{`{"a":"}"}x`, 9},
		{`{"a":"\"}"}`, 11},
		{`[{"a":[1,2]},3] tail`, 15},
		{`{"a":{"b":`, -1},
		{`{"a":"\\"}rest`, 10},
	} {
		for split := 0; split <= len(tc.in); split++ {
			var s jsonEnd
			got := s.scan([]byte(tc.in[:split]))
			if got < 0 {
				if r := s.scan([]byte(tc.in[split:])); r >= 0 {
					got = split + r
				}
			}
			if got != tc.want {
				t.Errorf("%q split at %d: end = %d, want %d", tc.in, split, got, tc.want)
			}
		}
	}
}

// FuzzFrameReader feeds arbitrary bytes to the frame reader, which must
// end at EOF without panicking and return no body longer than its input;
// and frames data correctly twice when it is a JSON object or array, which
// must then come back exactly, twice.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"x"}`))
	f.Add([]byte("Content-Length: 5\r\n\r\n{\"a\":\"}\\\"\"}Content-Length: 2\r\n\r\n[]"))
	f.Add([]byte("junk\r\nContent-Length: 3\r\nContent-Type: x\r\n\r\n[1]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := newFrameReader(bytes.NewReader(data), nil)
		for i := 0; ; i++ {
			body, _, err := fr.next()
			if len(body) > len(data) {
				t.Fatalf("body of %d bytes from %d bytes of input", len(body), len(data))
			}
			if err != nil && !errors.Is(err, errTruncated) {
				break
			}
			if i > len(data) {
				t.Fatal("more frames than input bytes")
			}
		}
		trimmed := bytes.TrimSpace(data)
		if !json.Valid(trimmed) || len(trimmed) == 0 || trimmed[0] != '{' && trimmed[0] != '[' {
			return
		}
		var stream bytes.Buffer
		for range 2 {
			fmt.Fprintf(&stream, "Content-Length: %d\r\n\r\n%s", len(trimmed), trimmed)
		}
		fr = newFrameReader(&stream, nil)
		for i := range 2 {
			body, _, err := fr.next()
			if err != nil || !bytes.Equal(body, trimmed) {
				t.Fatalf("frame %d = %q, %v; want %q", i, body, err, trimmed)
			}
		}
		if _, _, err := fr.next(); err != io.EOF {
			t.Fatalf("after two frames: %v, want EOF", err)
		}
	})
}
