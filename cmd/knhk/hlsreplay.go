// This file implements "knhk hls --net W --replay CASE": a recorded
// case's events fed to the C-simulation of the workflow's dispatch
// module, which must make the engine's decisions.

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/knhk/knhk/codegen/hls"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/store"
)

// replayName is the file the replayed events are written to.
func replayName(mod *hls.NetModule) string {
	return mod.Top[len("knhk_net_"):] + "_net_replay.txt"
}

// hlsReplay reads case id from the data directory, checks that it ran
// c's program and workflow, and adds the module's input for its events
// to files. It returns the steps, or an exit code.
func hlsReplay(e *env, c *compiled, mod *hls.NetModule, data, id string, files map[string][]byte) ([]hls.ReplayStep, int) {
	d, err := openData(data, false)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk hls: %v\n", err)
		return nil, exitUser
	}
	defer d.close()
	var evs []engine.Event
	err = d.st.ScanViews(context.Background(), store.Position{}, func(r store.RecordView, _ store.Position) error {
		if string(r.CaseID) != id || string(r.Kind) == engine.SnapshotKind {
			return nil
		}
		ev, err := engine.DecodeEvent(r.Payload)
		if err != nil {
			return fmt.Errorf("record %d of case %s: %w", r.Seq, id, err)
		}
		evs = append(evs, *ev)
		return nil
	})
	if err == nil && len(evs) == 0 {
		err = fmt.Errorf("unknown case %s in %s", id, d.path)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk hls: %v\n", err)
		return nil, exitUser
	}
	cl := d.caseOf(id)
	if cl.prog == nil {
		fmt.Fprintf(e.stderr, "knhk hls: %v\n", cl.err)
		return nil, exitUser
	}
	if h, err := c.prog.Hash(); err != nil || h != cl.meta.Descriptor {
		fmt.Fprintf(e.stderr, "knhk hls: case %s ran another program than %s (descriptor %.12s, not %.12s)\n", id, c.path, cl.meta.Descriptor, h)
		return nil, exitUser
	}
	if cl.meta.Workflow != mod.Workflow {
		fmt.Fprintf(e.stderr, "knhk hls: case %s runs workflow %s, not %s\n", id, cl.meta.Workflow, mod.Workflow)
		return nil, exitUser
	}
	steps, err := hls.Replay(cl.mach, mod, evs)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk hls: case %s cannot be replayed on the module: %v\n", id, err)
		return nil, exitUser
	}
	files[replayName(mod)] = []byte(hls.ReplayInput(steps))
	return steps, exitOK
}

// runReplay compiles the module's testbench in dir with g++ and runs it
// on the replayed events, reporting whether it made the engine's
// decisions.
func runReplay(e *env, mod *hls.NetModule, dir, id string, steps []hls.ReplayStep) int {
	gxx, err := exec.LookPath("g++")
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk hls: no g++ on the PATH: the events of case %s are in %s, the C-simulation was not run\n", id, filepath.Join(dir, replayName(mod)))
		return exitOK
	}
	base := mod.Top[len("knhk_net_"):] + "_net"
	tmp, err := os.MkdirTemp("", "knhkhls")
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk hls: %v\n", err)
		return exitUser
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "tb")
	build := exec.Command(gxx, "-std=c++17", "-O1", "-I", dir, "-o", bin, filepath.Join(dir, base+".cpp"), filepath.Join(dir, base+"_tb.cpp"))
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(e.stderr, "knhk: internal error: the generated C++ does not compile: %v\n%s", err, out)
		return exitInternal
	}
	out, err := exec.Command(bin, filepath.Join(dir, replayName(mod))).Output()
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk hls: the testbench failed: %v\n", err)
		return exitInternal
	}
	n, err := hls.CheckReplay(mod, steps, string(out))
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk hls: case %s: the module does not make the engine's decisions: %v\n", id, err)
		return exitUser
	}
	fmt.Fprintf(e.stderr, "replayed case %s: %d events, the module made the engine's %d dispatch decisions\n", id, len(steps), n)
	return exitOK
}
