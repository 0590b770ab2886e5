package server

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/license"
)

// TestClusterAdmissionCode: a start or deploy a cluster's admitter
// refused (a licence limit) answers failed_precondition on Connect and
// 403 on the JSON routes, as a single server answers it, with the
// admitter's message naming the limit; bad input stays
// invalid_argument.
func TestClusterAdmissionCode(t *testing.T) {
	limit := &license.LimitError{Limit: license.LimitConcurrentCases, Max: 1, Used: 1, Msg: "licence limit concurrent_cases (1, tier one) reached"}
	refused := cluster.NotAdmitted(limit)
	if !errors.Is(refused, cluster.ErrNotAdmitted) || !errors.Is(refused, license.ErrLimit) || refused.Error() != limit.Error() {
		t.Fatalf("admission error %v: want ErrNotAdmitted and ErrLimit with the limit's message", refused)
	}
	if c := connect.CodeOf(connectErr(refused)); c != connect.CodeFailedPrecondition {
		t.Errorf("Connect code of a refused start: %v, want failed_precondition", c)
	}
	if c := connect.CodeOf(connectErr(errors.New("bad input"))); c != connect.CodeInvalidArgument {
		t.Errorf("Connect code of bad input: %v, want invalid_argument", c)
	}
	w := httptest.NewRecorder()
	fail(w, refused)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "concurrent_cases") {
		t.Errorf("JSON route: %d %s, want 403 naming concurrent_cases", w.Code, w.Body)
	}
}
