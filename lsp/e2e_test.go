package lsp_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scenario is the file both editor clients open. Line 6 has é and 😀
// before a bad token, so the diagnostic's UTF-16 column (23) differs from
// its byte column (26); the edit deletes " #" and the formatter fixes the
// spacing on line 8.
const scenario = `package shop

// reserve books the items.
task reserve(items: [string]) -> string exec "./bin/reserve"

workflow Fulfil(o: [string]) -> string {
  let note = "café 😀" #
  let r = reserve(o)
  return   r + note
}
`

// buildServer builds the stdio server binary the editors start.
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "knhk-lsp-test")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/knhk-lsp-test")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func workspace(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.knhk"), []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func run(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("%s output:\n%s", filepath.Base(cmd.Path), out.String())
	if err != nil {
		t.Fatalf("%s: %v", cmd.Path, err)
	}
}

// skipf skips, unless KNHK_REQUIRE_E2E is set (CI sets it after running
// install-deps.sh), in which case a missing client is a failure: CI must
// really drive both editors.
func skipf(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("KNHK_REQUIRE_E2E") != "" {
		t.Fatalf("KNHK_REQUIRE_E2E is set but "+format, args...)
	}
	t.Skipf(format, args...)
}

func needDir(t *testing.T, dir, why string) {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		skipf(t, "%s is missing (%s); run lsp/editors/install-deps.sh", dir, why)
	}
}

func needCommand(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		skipf(t, "%s is not installed; run lsp/editors/install-deps.sh", name)
	}
	return p
}

// TestNodeClient drives the server with vscode-languageserver-protocol:
// open, diagnostics, edit, diagnostics cleared, hover, definition,
// completion, formatting, shutdown.
func TestNodeClient(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	node := needCommand(t, "node")
	needDir(t, "editors/e2e/node_modules", "npm ci in lsp/editors/e2e")
	bin := buildServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run(t, exec.CommandContext(ctx, node, "editors/e2e/client.js", bin, workspace(t)))
}

// TestNeovimClient drives the server with headless Neovim's built-in
// client through the same steps.
func TestNeovimClient(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	nvim := needCommand(t, "nvim")
	bin := buildServer(t)
	script, err := filepath.Abs("editors/nvim/e2e.lua")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nvim, "--headless", "--clean", "-u", "NONE", "-i", "NONE", "-n", "-c", "luafile "+script)
	cmd.Env = append(os.Environ(), "KNHK_LSP="+bin, "KNHK_WS="+workspace(t), "XDG_STATE_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir())
	run(t, cmd)
}

// TestVSCodeGrammar runs the TextMate grammar tests.
func TestVSCodeGrammar(t *testing.T) {
	if testing.Short() {
		t.Skip("needs node")
	}
	node := needCommand(t, "node")
	needDir(t, "editors/vscode/node_modules", "npm ci in lsp/editors/vscode")
	cmd := exec.Command(node, "node_modules/vscode-tmgrammar-test/dist/unit.js", "test/**/*.test.knhk")
	cmd.Dir = "editors/vscode"
	run(t, cmd)
}

// TestVSCodePackage checks that the extension packages with vsce.
func TestVSCodePackage(t *testing.T) {
	if testing.Short() {
		t.Skip("needs node")
	}
	node := needCommand(t, "node")
	needDir(t, "editors/vscode/node_modules", "npm ci in lsp/editors/vscode")
	out := filepath.Join(t.TempDir(), "knhk.vsix")
	cmd := exec.Command(node, "node_modules/@vscode/vsce/vsce", "package", "--out", out)
	cmd.Dir = "editors/vscode"
	run(t, cmd)
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		t.Fatalf("no package written: %v", err)
	}
}

// TestNeovimDocSnippet checks that the Neovim configuration in docs/lsp.md
// works as written: it detects .knhk files, starts "knhk lsp" and shows
// its diagnostics.
func TestNeovimDocSnippet(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	nvim := needCommand(t, "nvim")
	doc, err := os.ReadFile("../docs/lsp.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```lua\n")
	snippet, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/lsp.md has no lua block")
	}
	dir := t.TempDir()
	bin := buildServer(t)
	// "knhk" on PATH runs the test server (which ignores the "lsp" argument).
	if err := os.WriteFile(filepath.Join(dir, "knhk"), []byte("#!/bin/sh\nexec "+bin+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	initLua := write("init.lua", snippet)
	src := write("t.knhk", "package p\n\nworkflow W() -> string {\n  let s = \"é😀\" #\n  return s\n}\n")
	check := write("check.lua", `
vim.cmd('edit `+src+`')
local ok = vim.wait(20000, function() return #vim.diagnostic.get(0) > 0 end, 20)
local d = vim.diagnostic.get(0)[1]
io.stdout:write('filetype=' .. vim.bo.filetype .. ' diagnostics=' .. #vim.diagnostic.get(0) .. '\n')
if ok and vim.bo.filetype == 'knhk' and d.lnum == 3 and d.col == 19 then
  vim.cmd('qall!')
else
  io.stderr:write('FAIL: ' .. vim.inspect(d) .. '\n')
  vim.cmd('cquit 1')
end
`)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nvim, "--headless", "--clean", "-u", initLua, "-i", "NONE", "-n", "-c", "luafile "+check)
	cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "XDG_STATE_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir())
	run(t, cmd)
}
