// This file implements "knhk version".

package main

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is the release version. Release builds set it with
// -ldflags "-X main.version=v1.2.3"; otherwise it comes from the build
// information that the go command embeds.
var version = ""

var versionCmd = &command{
	name:      "version",
	usageLine: "knhk version",
	short:     "print the version of knhk",
	long: `Version prints the version of knhk, the version control revision it was
built from when known, the Go version and the platform.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		return func(e *env, args []string) int {
			if len(args) > 0 {
				return usageError(e, "unexpected arguments")
			}
			fmt.Fprintln(e.stdout, versionString())
			return exitOK
		}
	},
}

// versionString returns a line such as
// "knhk version v0.1.0 (3f2a9c1d0e4b) go1.26.8 linux/amd64".
func versionString() string {
	v, rev, dirty := version, "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	out := "knhk version " + v
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "+dirty"
		}
		out += " (" + rev + ")"
	}
	return fmt.Sprintf("%s %s %s/%s", out, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
