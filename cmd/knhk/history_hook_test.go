// This file tests that knhk history names the hooks of a case.

package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestHistoryNamesHooks(t *testing.T) {
	f := newFixture(t, "1h")
	f.write(`package hk

import "std/log"

workflow Hello(who: string) -> string {
  hook opened on start -> log.info("opened " + who)
  hook closed on end when who == "nobody" -> log.info("closed")
  log.info("hello " + who)
  return who
}
`)
	code, stdout, stderr := f.knhk("run", "--data", f.data, "--input-json", `"ann"`, f.file)
	m := regexp.MustCompile(`case (c-[0-9a-f]{16})`).FindStringSubmatch(stderr)
	if code != exitOK || stdout != "\"ann\"\n" || m == nil {
		t.Fatalf("run: exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "opened ann") || strings.Contains(stderr, "closed") {
		t.Errorf("the hooks' log lines:\n%s", stderr)
	}
	code, stdout, stderr = f.knhk("history", "--data", f.data, m[1])
	if code != exitOK {
		t.Fatalf("history: exit %d\n%s", code, stderr)
	}
	var steps []string
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if fs := strings.Fields(l); len(fs) >= 3 && (fs[2] == "hook" || fs[2] == "done") {
			steps = append(steps, strings.Join(fs[2:], " "))
		}
	}
	// The start hook comes first; its action's outcome may come before or
	// after the main path's (calls complete as they come).
	want := []string{"hook opened", "done log.info", "done opened", "hook closed"}
	if len(steps) == 0 || steps[0] != want[0] || strings.Join(slices.Sorted(slices.Values(steps)), "|") != strings.Join(slices.Sorted(slices.Values(want)), "|") {
		t.Errorf("history steps %q, want %q in some order\n%s", steps, want, stdout)
	}
}
