package server

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/knhk/knhk/server/metrics"
)

// TestClusterMetrics mounts the metrics package on every node and
// scrapes them: every replica counts the events it applied and its
// cases, the leader says it leads, and the probes answer.
func TestClusterMetrics(t *testing.T) {
	nodes := apiCluster(t)
	for _, a := range nodes {
		h := new(metrics.Health)
		a.api.MountMetrics(metrics.New(metrics.Options{NoProcess: true}), h)
		h.Ready()
	}
	var leader string
	waitCluster(t, "a leader", func() bool {
		for id, a := range nodes {
			if a.n.IsLeader() {
				leader = id
			}
		}
		return leader != ""
	})
	waitCluster(t, "a start", func() bool {
		code, _ := call(t, http.MethodPost, nodes["n2"].srv.URL+"/cluster/v1/cases", []byte(`{"id":"m1","workflow":"Hold","input":"m1"}`))
		return code == http.StatusOK
	})
	value := func(out, metric string) float64 {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(metric) + ` (\S+)$`).FindStringSubmatch(out)
		if m == nil {
			return -1
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	for id, a := range nodes {
		var out string
		waitCluster(t, "the start counted on "+id, func() bool {
			_, out = call(t, http.MethodGet, a.srv.URL+"/metrics", nil)
			return value(out, `knhk_events_total{kind="start"}`) == 1
		})
		if v := value(out, `knhk_cases{status="running",workflow="Hold"}`); v != 1 {
			t.Errorf("%s counts %v running Hold cases:\n%s", id, v, out)
		}
		want := 0.0
		if id == leader {
			want = 1
		}
		if v := value(out, "knhk_cluster_leader"); v != want {
			t.Errorf("%s: knhk_cluster_leader %v, want %v", id, v, want)
		}
		if value(out, "knhk_cluster_applied_index") <= 0 || value(out, "knhk_cluster_term") <= 0 {
			t.Errorf("%s: no raft gauges:\n%s", id, out)
		}
		if code, body := call(t, http.MethodGet, a.srv.URL+"/readyz", nil); code != http.StatusOK {
			t.Errorf("%s /readyz: %d %s", id, code, body)
		}
	}
}
