package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
)

// recording keeps the bytes of the WorkTasks responses it carries.
type recording struct {
	rt  http.RoundTripper
	mu  sync.Mutex
	got bytes.Buffer
}

func (r *recording) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.rt.RoundTrip(req)
	if err == nil && strings.HasSuffix(req.URL.Path, "/WorkTasks") {
		res.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(res.Body, writerFunc(func(p []byte) (int, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			return r.got.Write(p)
		})), res.Body}
	}
	return res, err
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestWorkTasksUncompressed: a client that accepts gzip (Connect's
// default) gets the task stream's messages uncompressed, a message of
// many tasks past the 4 KiB from which the server's other answers are
// compressed included.
func TestWorkTasksUncompressed(t *testing.T) {
	s, _, ts := serveH2C(t)
	if _, err := s.Deploy("two.knhk", []byte(twoSrc), nil); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	rec := &recording{rt: tr}
	api := knhkv1connect.NewKnhkServiceClient(&http.Client{Transport: rec}, ts.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const n = 100
	for i := range n {
		if _, err := api.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Two", InputJson: fmt.Sprint(i)})); err != nil {
			t.Fatal(err)
		}
	}
	st := api.WorkTasks(ctx)
	if err := st.Send(&knhkv1.WorkTasksRequest{Queue: "steps", Worker: "w", Credits: n}); err != nil {
		t.Fatal(err)
	}
	recvTasks(t, st, n)
	st.CloseRequest()
	for {
		if _, err := st.Receive(); err != nil {
			break
		}
	}
	st.CloseResponse()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	b, biggest := rec.got.Bytes(), 0
	for len(b) >= 5 {
		flags, size := b[0], int(binary.BigEndian.Uint32(b[1:5]))
		if flags&1 != 0 {
			t.Errorf("a message of %d bytes was compressed", size)
		}
		biggest = max(biggest, size)
		b = b[min(5+size, len(b)):]
	}
	if biggest < 4096 {
		t.Fatalf("the largest message was %d bytes; the test needs one past 4096", biggest)
	}
}
