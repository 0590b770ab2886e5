package tenant

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
)

// FuzzRequestTargets: a request body of any content, in any codec, gives
// target ids or none, never a panic, and is handed on to the handler
// byte for byte; the ids it gives are fields of the request.
func FuzzRequestTargets(f *testing.F) {
	pb, _ := proto.Marshal(&knhkv1.GetCaseRequest{CaseId: "c-1"})
	f.Add("application/proto", pb)
	f.Add("application/json", []byte(`{"caseId":"c-1","name":"x"}`))
	f.Add("application/grpc", append([]byte{0, 0, 0, 0, byte(len(pb))}, pb...))
	f.Add("application/grpc", []byte{0, 255, 255, 255, 255})
	f.Add("application/json", []byte(`{"caseId":`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		r := httptest.NewRequest("POST", "/knhk.v1.KnhkService/GetCase", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		ts := requestTargets(r, 1<<10)
		for _, s := range ts {
			if !strings.Contains(s, "=") {
				t.Fatalf("target %q is not field=value", s)
			}
		}
		rest := new(bytes.Buffer)
		rest.ReadFrom(r.Body)
		if !bytes.Equal(rest.Bytes(), body) {
			t.Fatalf("the handler gets %d bytes of a %d-byte body", rest.Len(), len(body))
		}
		_ = responseField(r, body, "case_id")
	})
}
