// This file tests that the nodes of knhk serve --node (Raft) and --bft
// send kernel calls to the device KNHK_DEVICE chooses, as knhk serve and
// knhk run do.

package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/knhk/knhk/accel"
)

// TestClusterNodesUseDevice runs deviceKernels' Score (a kernel call)
// and Count (a sum) on a one-node Raft cluster and a one-validator BFT
// network. Without a Vulkan loader and with KNHK_DEVICE=vulkan from one
// element on, the cases fail with the loader's error, so their calls
// reach the runner; on the system's device (lavapipe in CI) the results
// are knhk run's on the CPU.
func TestClusterNodesUseDevice(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "k.knhk"), []byte(deviceKernels), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := []struct{ workflow, input string }{
		{"Score", "[1.5,2,3,-4,5.25,7,9,11]"},
		{"Count", "[1.5,2,3,-4,5.25,7,9,11]"},
	}
	// knhk run's results, on the CPU.
	t.Setenv("KNHK_DEVICE", "cpu")
	var locals []string
	for _, r := range runs {
		_, out, errb := knhkProc(t, dir, "run", "--data", t.TempDir(), "--workflow", r.workflow, "--input-json", r.input, "k.knhk")
		if out = strings.TrimSpace(out); out == "" {
			t.Fatalf("knhk run %s gave no result: %s", r.workflow, errb)
		}
		locals = append(locals, out)
	}
	base := 21000 + rand.IntN(8000)
	// Each round starts a Raft node and a BFT validator under env.
	round := func(name string, env map[string]string, check func(workflow, local, got string, failed bool)) {
		t.Helper()
		for k, v := range env {
			t.Setenv(k, v)
		}
		raft := startServe(t, dir, name+"-raft", "--node", "n1", "--raft", "127.0.0.1:0", "k.knhk")
		defer raft.stop(t, syscall.SIGTERM)
		net := name + "-net"
		if code, _, errb := knhkProc(t, dir, "cluster", "bft-init", "--dir", net, "--validators", "1", "--base-port", strconv.Itoa(base)); code != 0 {
			t.Fatalf("bft-init: %s", errb)
		}
		base += 10
		bft := startServe(t, dir, net+"/v0/knhk", "--bft", net+"/v0", "--drive", "k.knhk")
		defer bft.stop(t, syscall.SIGTERM)
		for i, r := range runs {
			local := locals[i]
			var code int
			var out, errb string
			waitUntil(t, "the Raft node to run "+r.workflow, func() bool {
				code, out, errb = knhkProc(t, dir, "run", "--server", raft.url, "--workflow", r.workflow, "--input-json", r.input, "k.knhk")
				return code == 0 || strings.Contains(errb, "failed")
			})
			if code != 0 {
				out = errb
			}
			check(r.workflow+" on the Raft node", local, strings.TrimSpace(out), code != 0)
			id := fmt.Sprintf("%s-%d", name, i)
			if code, _, errb := knhkProc(t, dir, "cluster", "--server", bft.url, "start", id, "--workflow", r.workflow, "--input", r.input); code != 0 {
				t.Fatalf("cluster start on the validator: %s", errb)
			}
			var got string
			waitUntil(t, id+" to end on the validator", func() bool {
				_, got, _ = knhkProc(t, dir, "cluster", "--server", bft.url, "get", id)
				return strings.Contains(got, `"status":"completed"`) || strings.Contains(got, `"status":"failed"`)
			})
			check(r.workflow+" on the BFT validator", local, got, strings.Contains(got, `"status":"failed"`))
		}
	}

	noLoader := map[string]string{"KNHK_DEVICE": "vulkan", "KNHK_DEVICE_MIN": "1", "KNHK_VULKAN_LOADER": "/nonexistent/libvulkan.so.1"}
	round("noloader", noLoader, func(what, _, got string, failed bool) {
		if !failed || !strings.Contains(got, "KNHK_DEVICE=vulkan: no Vulkan loader") {
			t.Errorf("%s without a loader: %s, want the kernel call failed for want of a loader", what, got)
		}
	})

	t.Setenv("KNHK_VULKAN_LOADER", "")
	if v, err := accel.Open(); err != nil || len(v.Devices) == 0 {
		if v != nil {
			v.Close()
		}
		if os.Getenv("KNHK_REQUIRE_E2E") != "" {
			t.Fatalf("Vulkan: %v (no device)", err)
		}
		t.Skipf("Vulkan: %v", err)
	} else {
		v.Close()
	}
	device := map[string]string{"KNHK_DEVICE": "vulkan", "KNHK_DEVICE_MIN": "1", "KNHK_CACHE_DIR": t.TempDir()}
	round("device", device, func(what, local, got string, failed bool) {
		if failed {
			t.Errorf("%s on the device: %s, want %s", what, got, local)
			return
		}
		if strings.HasPrefix(got, "{") { // the validator's case record
			if !strings.Contains(got, `"result":`+strconv.Quote(local)) && !strings.Contains(got, `"result":`+local) {
				t.Errorf("%s on the device: %s, want the result %s", what, got, local)
			}
			return
		}
		if got != local {
			t.Errorf("%s on the device: %s, want %s", what, got, local)
		}
	})
}
