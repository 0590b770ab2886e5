// This file implements listing and searching cases.

package server

import (
	"strconv"
	"strings"
)

// ListRequest filters and pages a listing; zero fields match everything.
type ListRequest struct {
	Workflow      string
	Status        string
	StartedAfter  int64 // Unix nanoseconds, inclusive
	StartedBefore int64 // exclusive
	KeyContains   string
	PageSize      int    // default 100, at most 1000
	PageToken     string // from the previous page
}

var statuses = map[string]bool{"running": true, "completed": true, "failing": true, "failed": true, "cancelled": true, "compensation-failed": true}

// List returns the cases that match r, in start order, and the token of
// the next page ("" when this is the last).
func (s *Service) List(r ListRequest) ([]Summary, string, error) {
	if err := s.enter(); err != nil {
		return nil, "", err
	}
	defer s.leave()
	if r.Status != "" && !statuses[r.Status] {
		return nil, "", errf(CodeInvalidArgument, "status", "unknown status %q (want running, completed, failing, failed, cancelled or compensation-failed)", r.Status)
	}
	from := 0
	if r.PageToken != "" {
		n, err := strconv.Atoi(r.PageToken)
		if err != nil || n < 0 {
			return nil, "", errf(CodeInvalidArgument, "page_token", "bad page token %q", r.PageToken)
		}
		from = n
	}
	size := pageSize(r.PageSize)
	s.mu.Lock()
	list := s.list
	s.mu.Unlock()
	var out []Summary
	for i := from; i < len(list); i++ {
		e := list[i]
		if !e.listed() {
			continue
		}
		sum := e.summary()
		if r.Workflow != "" && sum.Workflow != r.Workflow ||
			r.Status != "" && sum.Status != r.Status ||
			r.StartedAfter != 0 && sum.Start < r.StartedAfter ||
			r.StartedBefore != 0 && sum.Start >= r.StartedBefore ||
			r.KeyContains != "" && !strings.Contains(sum.Key, r.KeyContains) {
			continue
		}
		if len(out) == size {
			return out, strconv.Itoa(i), nil
		}
		out = append(out, sum)
	}
	return out, "", nil
}

// listed reports whether e shows in lists, counts and exports: its start
// is durable and did not fail. A case still starting is left out.
func (e *caseEntry) listed() bool {
	select {
	case <-e.startedC():
		return e.startError() == nil
	default:
		return false
	}
}

// pageSize is a page's size given the n asked for: 100 unless given,
// at most 1000, as every listing and history of the API pages them.
func pageSize(n int) int {
	if n <= 0 {
		return 100
	}
	return min(n, 1000)
}
