// This file implements the audit of the admin CLI: knhk tenant and knhk
// license commands append a record (who ran what, on which ids, with
// which result) to the audit log of the data directory they act on.

package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/server/auth"
)

// auditedCommands are the commands whose runs are audited.
var auditedCommands = map[string]bool{"tenant": true, "license": true, "case": true}

// runAudited runs body (command c's, with its flags parsed in fs and
// positional arguments args) and, for an admin command, appends its
// record to the audit log of its data directory: --data, else
// $KNHK_DATA, else ./.knhk when that exists (knhk license has no
// --data). A command run without a data directory is not recorded.
func runAudited(e *env, c *command, fs *flag.FlagSet, args []string, body func(*env, []string) int) int {
	if !auditedCommands[c.name] || len(args) == 0 {
		return body(e, args)
	}
	data := auditDataDir(fs)
	if data == "" {
		return body(e, args)
	}
	var errBuf bytes.Buffer
	ce := *e
	ce.stderr = io.MultiWriter(e.stderr, &limitedBuffer{b: &errBuf, n: 4 << 10})
	code := body(&ce, args)
	rec := audit.Record{
		Tenant:     auth.DefaultTenant,
		Subject:    localSubject(),
		Role:       auth.RoleAdmin.String(),
		Credential: audit.CredLocal,
		Action:     "knhk " + c.name + " " + args[0],
		Targets:    cliTargets(c.name, fs, args[1:]),
		Remote:     "local",
		Result:     audit.ResultOK,
	}
	if code != exitOK {
		rec.Result = "exit_" + strconv.Itoa(code)
		rec.Detail = lastStderrLine(errBuf.String())
	}
	if _, err := os.Stat(data); err != nil {
		return code // the command did not make a data directory: nothing to record in
	}
	l, err := audit.Open(data)
	if err == nil {
		_, err = l.Append(rec)
		if cerr := l.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: warning: the audit record of this command was not written: %v\n", err)
	}
	return code
}

func auditDataDir(fs *flag.FlagSet) string {
	if f := fs.Lookup("data"); f != nil && f.Value.String() != "" {
		return f.Value.String()
	}
	if d := os.Getenv("KNHK_DATA"); d != "" {
		return d
	}
	if fi, err := os.Stat(".knhk"); err == nil && fi.IsDir() {
		return ".knhk"
	}
	return ""
}

// localSubject names who ran the command: the OS user at the host.
func localSubject() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// cliTargets returns the ids a command acts on: its arguments (tenant
// ids, case ids, licence files) and the flags that name a tenant,
// customer, role, tier or subject; never a key or token.
func cliTargets(cmd string, fs *flag.FlagSet, args []string) []string {
	var out []string
	for _, a := range args {
		switch cmd {
		case "tenant":
			out = append(out, "tenant="+a)
		case "case":
			out = append(out, "case_id="+a)
		default:
			out = append(out, "file="+filepath.Base(a))
		}
	}
	for _, name := range []string{"tenant", "customer", "tier", "role", "subject", "rate", "burst", "max-running"} {
		if f := fs.Lookup(name); f != nil && f.Value.String() != f.DefValue {
			out = append(out, name+"="+f.Value.String())
		}
	}
	return out
}

func lastStderrLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if r := l.n - l.b.Len(); r > 0 {
		l.b.Write(p[:min(r, len(p))])
	}
	return len(p), nil
}
