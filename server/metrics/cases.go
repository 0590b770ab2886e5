// This file implements knhk_cases: the cases a server holds, counted at
// scrape time.

package metrics

import "github.com/prometheus/client_golang/prometheus"

// CaseCounter is what knhk_cases reads: it calls fn once per workflow
// and status with the number of cases in it. The server implements it
// by one pass over its cases, so a scrape costs O(cases).
type CaseCounter interface {
	CaseCounts(fn func(workflow, status string, n int))
}

var casesDesc = prometheus.NewDesc("knhk_cases", "Cases the server holds, by workflow and status.", []string{"workflow", "status"}, nil)

// WatchCases registers knhk_cases over c. Call it once.
func (m *Metrics) WatchCases(c CaseCounter) {
	m.reg.MustRegister(caseCollector{c})
}

type caseCollector struct{ c CaseCounter }

func (caseCollector) Describe(ch chan<- *prometheus.Desc) { ch <- casesDesc }

func (cc caseCollector) Collect(ch chan<- prometheus.Metric) {
	cc.c.CaseCounts(func(workflow, status string, n int) {
		ch <- prometheus.MustNewConstMetric(casesDesc, prometheus.GaugeValue, float64(n), workflow, status)
	})
}
