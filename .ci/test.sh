#!/usr/bin/env bash
# The one test command (README.md names it; .ci/run calls it): installs what
# the tests need when it is missing, then vets and tests every package with
# the race detector. It must finish well within 60 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

# --- System packages ---------------------------------------------------------
# "command:package" pairs: the Debian package is installed only when the
# command is missing. Append what later test suites need (an editor for the
# editor-integration tests, ...).
APT_NEEDS=(
	"go:golang-go" # any Go >= 1.21; it fetches the go.mod toolchain itself
	"gcc:gcc"      # cgo, which go test -race needs
	"git:git"      # go build stamps the version control revision
	"nvim:neovim"  # the Neovim client in the language server's end-to-end test
	"npm:npm"      # the Node client, the TextMate grammar tests and vsce
	"dot:graphviz" # knhk graph -o out.svg
	"chromium:chromium" # the web console's headless-browser test (chromedp)
	"protoc:protobuf-compiler" # api/gen_test.go regenerates the API code and diffs it
	"g++:g++"      # codegen/hls compiles the generated C++ and runs its C-simulation
	"spirv-val:spirv-tools"   # codegen/spirv's tests validate every generated module
	"vulkaninfo:vulkan-tools" # the knhk devices script lists the device
	# Files rather than commands: the Vulkan loader, lavapipe (Mesa's CPU
	# Vulkan device) for accel's tests on the device, the headers vulkan-go
	# and go generate ./codegen/spirv read.
	"/usr/lib/x86_64-linux-gnu/libvulkan.so.1:libvulkan1"
	"/usr/share/vulkan/icd.d/lvp_icd.x86_64.json:mesa-vulkan-drivers"
	"/usr/include/vulkan/vulkan.h:libvulkan-dev"
	"/usr/include/spirv/unified1/spirv.core.grammar.json:spirv-headers"
)

missing=()
for need in "${APT_NEEDS[@]}"; do
	case "$need" in
	/*) [ -e "${need%%:*}" ] || missing+=("${need#*:}") ;;
	*) command -v "${need%%:*}" >/dev/null 2>&1 || missing+=("${need#*:}") ;;
	esac
done
if ((${#missing[@]})); then
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
	echo "installing: ${missing[*]}" >&2
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- Node packages -----------------------------------------------------------
# The editor clients and the VS Code extension's tools, from their committed
# lockfiles (npm ci). The language server's end-to-end tests drive real
# clients; KNHK_REQUIRE_E2E makes a missing one a failure instead of a skip.
sh lsp/editors/install-deps.sh
export KNHK_REQUIRE_E2E=1

# --- Go ----------------------------------------------------------------------
export CGO_ENABLED=1
go version

files=$(go list -f '{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .TestGoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .XTestGoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}' ./...)
unformatted=$(echo "$files" | xargs gofmt -l)
if [ -n "$unformatted" ]; then
	echo "not gofmt-ed:" >&2
	echo "$unformatted" >&2
	exit 1
fi

go vet ./...
go test -race -timeout 25m ./...
# CometBFT's p2p shutdown races under -race, so its network tests skip
# there and run here without it.
go test -count=1 ./runtime/cluster/bft
# The routing benchmark of learned routes with all five seeds per policy
# (under -race it runs one: the race detector slows it tenfold).
go test -run TestRoutingBenchmark ./runtime/learn

# The kernels' vector loops (runtime/vec/simd_amd64.go) build only with
# GOEXPERIMENT=simd on amd64: vet them and run the compiled kernels against
# runtime/eval with them (runtime/vec's own tests re-run themselves so).
if [ "$(go env GOARCH)" = amd64 ]; then
	test -z "$(gofmt -l runtime/vec)"
	GOEXPERIMENT=simd go vet ./runtime/vec
	GOEXPERIMENT=simd go test ./codegen/golang/kerneltest
	# filter/any/all over record columns (compiled step counts included)
	GOEXPERIMENT=simd go test ./codegen/golang/gentest/bench
fi
