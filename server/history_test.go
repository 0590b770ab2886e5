package server

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHistoryPagesWatchExport(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSvc(t, s)
	deploy(t, s)
	ctx := context.Background()
	id := start(t, s, "Hold", `"o"`)
	waitFor(t, s, id, func(s Summary) bool { return s.Idle })

	var mu sync.Mutex
	var watched []HistoryEntry
	done := make(chan error, 1)
	go func() {
		done <- s.WatchHistory(ctx, id, 0, true, func(h HistoryEntry) error {
			mu.Lock()
			watched = append(watched, h)
			mu.Unlock()
			return nil
		})
	}()
	time.Sleep(20 * time.Millisecond)
	if _, err := s.Signal(ctx, id, "Approve", []byte(`"ann"`)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the watch did not end with the case")
	}

	all, next, err := s.History(ctx, id, 0, 1000, true)
	if err != nil || next != 0 || len(all) < 4 {
		t.Fatalf("history: %d entries, next %d, %v", len(all), next, err)
	}
	if all[0].Kind != "start" || all[0].Step != "Hold" {
		t.Fatalf("first entry %+v", all[0])
	}
	var signals int
	for _, h := range all {
		if h.Kind == "signal" && h.Step == "Approve" {
			signals++
		}
	}
	if signals != 1 {
		t.Fatalf("%d signal entries in %+v", signals, all)
	}
	mu.Lock()
	if len(watched) != len(all) {
		t.Fatalf("watched %d entries, the history has %d", len(watched), len(all))
	}
	mu.Unlock()
	// Pages of two cover the same entries, in order.
	var paged []HistoryEntry
	for from := int64(0); ; {
		page, next, err := s.History(ctx, id, from, 2, true)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		if next == 0 {
			break
		}
		from = next
	}
	if len(paged) != len(all) || paged[len(paged)-1] != all[len(all)-1] {
		t.Fatalf("paged %d entries, want %d", len(paged), len(all))
	}
	if _, _, err := s.History(ctx, id, -1, 2, true); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("a negative from: %v", err)
	}

	var b bytes.Buffer
	if err := s.Export(ctx, []string{id}, "csv", &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), id+",signal Approve,complete,") {
		t.Fatalf("export:\n%s", b.String())
	}
	if err := s.Export(ctx, nil, "pdf", &b); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("an unknown format: %v", err)
	}
}

// TestUserLevelHistory: without detail the history names steps after the
// source and leaves bookkeeping steps out, as knhk history does.
func TestUserLevelHistory(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSvc(t, s)
	deploy(t, s)
	ctx := context.Background()
	id := start(t, s, "Hold", `"o"`)
	waitFor(t, s, id, func(s Summary) bool { return s.Idle })
	if _, err := s.Signal(ctx, id, "Approve", []byte(`"ann"`)); err != nil {
		t.Fatal(err)
	}
	wait(t, s, id)
	all, _, err := s.History(ctx, id, 0, 1000, true)
	if err != nil {
		t.Fatal(err)
	}
	user, _, err := s.History(ctx, id, 0, 1000, false)
	if err != nil {
		t.Fatal(err)
	}
	var steps, raw []string
	for _, h := range user {
		steps = append(steps, h.Step)
	}
	for _, h := range all {
		raw = append(raw, h.Step)
	}
	got := strings.Join(steps, " ")
	if len(user) >= len(all) || !strings.Contains(got, "Approve") || !strings.HasSuffix(got, "return") || strings.Contains(got, "_") {
		t.Fatalf("user-level steps: %s\ndetailed: %s", got, strings.Join(raw, " "))
	}
}
