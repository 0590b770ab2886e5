// This file implements "knhk hls": the kernels of a program, or the
// control part of one workflow net, as Vitis-HLS-style C++ with a
// testbench for C-simulation (codegen/hls).

package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/knhk/knhk/codegen/golang"
	"github.com/knhk/knhk/codegen/hls"
	"github.com/knhk/knhk/lang/source"
)

var hlsCmd = &command{
	name:      "hls",
	usageLine: "knhk hls [-o DIR] [--net WORKFLOW [--replay CASE] [--data DIR]] FILE",
	short:     "write kernels or a workflow's dispatch as HLS C++",
	long: `Hls checks FILE and passes it through the soundness gate as knhk build
does, then writes C++ for Vitis HLS into DIR (default: FILE's name
without .knhk, followed by _hls):

  knhk_hls.h      the pragma macro, and stand-ins for ap_int, ap_uint and
                  hls::stream compiled only when __SYNTHESIS__ is undefined
  NAME.h NAME.cpp each kernel NAME as the extern "C" top function
                  knhk_NAME: m_axi arrays, s_axilite scalars and lengths,
                  the element loop pipelined (II=1), inner loops unrolled,
                  small constant-indexed arrays completely partitioned
  NAME_tb.cpp     its testbench: g++ -std=c++17 NAME.cpp NAME_tb.cpp runs
                  the C-simulation on an input file
  NAME_input.txt  a sample input (64 elements of one in every array)
  NAME_hls.tcl    the Vitis HLS script: vitis_hls -f NAME_hls.tcl runs the
                  C-simulation on the sample and synthesizes knhk_NAME

A kernel the HLS target cannot synthesize (recursion, dynamic
allocation, a loop without constant bounds, an indirect call) is
reported at its source position (exit 1).

With --net WORKFLOW it writes instead the dispatch module of the
workflow's control part, WORKFLOW_net.{h,cpp}, WORKFLOW_net_tb.cpp, a
sample WORKFLOW_net_events.txt and WORKFLOW_net_hls.tcl:
the marking as a bit vector, each transition's enabling as a mask test, a
priority encoder in the engine's order and the firing as a masked update,
one event per cycle (PIPELINE II=1) and a decision within 8 cycles
(LATENCY max=8). A place that can hold n tokens takes n bits
(thermometer code). A workflow whose control part does not fit (child
frames, hooks, sends, cancel task, a place or call count above 8) is
refused with the reasons (exit 1). See docs/hls.md.

With --replay CASE it also writes WORKFLOW_net_replay.txt: the events of
case CASE (from the data directory --data, default .knhk; the case must
have run FILE's program) as the module's input. With g++ on the PATH it
then runs the C-simulation on them and checks that the module makes every
dispatch decision the engine made, in order, and reaches the engine's
marking after every event (exit 1 at the first difference).

The written files are listed on standard output.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o hlsOptions
		fs.StringVar(&o.out, "o", "", "write the files into `DIR`")
		fs.StringVar(&o.net, "net", "", "write the dispatch module of `WORKFLOW`")
		fs.StringVar(&o.replay, "replay", "", "replay the events of `CASE` on the module")
		fs.StringVar(&o.data, "data", ".knhk", "the data `DIR` holding the case to replay")
		return func(e *env, args []string) int { return runHLS(e, &o, args) }
	},
}

type hlsOptions struct {
	out    string
	net    string
	replay string
	data   string
}

func runHLS(e *env, o *hlsOptions, args []string) int {
	if len(args) != 1 {
		return usageError(e, "want exactly one FILE, got %d", len(args))
	}
	if o.replay != "" && o.net == "" {
		return usageError(e, "--replay needs --net WORKFLOW")
	}
	c, code := compileFile(e, args[0])
	if c == nil {
		return code
	}
	if !soundGate(e, c) {
		return exitUser
	}
	opts := hls.Options{Pos: golang.LinePos(c.prog, c.files)}
	var steps []hls.ReplayStep
	var replay func(dir string) int // runs the replay once the files are written
	files := map[string][]byte{hls.HeaderName: []byte(hls.Header)}
	if o.net != "" {
		mod, err := hls.Net(c.prog, o.net, opts)
		if err != nil {
			var nf *hls.NotFit
			if errors.As(err, &nf) {
				fmt.Fprintf(e.stderr, "knhk hls: the control part of workflow %s does not fit a dispatch module:\n", nf.Workflow)
				for _, r := range nf.Reasons {
					fmt.Fprintf(e.stderr, "\t%s\n", r)
				}
				return exitUser
			}
			fmt.Fprintf(e.stderr, "knhk %v\n", err)
			return exitUser
		}
		for n, b := range mod.Files {
			files[n] = b
		}
		if o.replay != "" {
			if steps, code = hlsReplay(e, c, mod, o.data, o.replay, files); steps == nil {
				return code
			}
			replay = func(dir string) int { return runReplay(e, mod, dir, o.replay, steps) }
		}
	} else {
		ks, ds := hls.Kernels(c.prog, opts)
		if len(ds) > 0 {
			var sds source.Diagnostics
			for _, d := range ds {
				sd := &source.Diagnostic{Severity: source.Error, Code: source.NotImplemented, Message: d.Msg}
				if f := c.files[d.Loc.File]; f != nil && d.Loc.Known() {
					sd.File, sd.Span = f, d.Loc.Span
				}
				sds = append(sds, sd)
			}
			printDiagnostics(e, sds)
			return exitUser
		}
		if len(ks) == 0 {
			fmt.Fprintf(e.stderr, "knhk hls: %s declares no kernels (--net WORKFLOW writes a workflow's dispatch module)\n", c.path)
			return exitUser
		}
		for _, k := range ks {
			for n, b := range k.Files {
				files[n] = b
			}
		}
	}
	dir := o.out
	if dir == "" {
		dir = strings.TrimSuffix(filepath.Base(c.path), ".knhk") + "_hls"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(e.stderr, "knhk hls: %v\n", err)
		return exitUser
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			fmt.Fprintf(e.stderr, "knhk hls: %v\n", err)
			return exitUser
		}
		fmt.Fprintln(e.stdout, p)
	}
	if replay != nil {
		return replay(dir)
	}
	return exitOK
}
