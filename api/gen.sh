#!/bin/sh
# gen.sh OUT: generates the Go code of knhk/v1/*.proto under OUT with
# protoc and the plugins pinned in go.mod (go tool). Run from api/.
set -eu
out=${1:-.}
mkdir -p "$out"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$bin/protoc-gen-connect-go" connectrpc.com/connect/cmd/protoc-gen-connect-go
PATH="$bin:$PATH" protoc -I . \
	--go_out="$out" --go_opt=paths=source_relative \
	--connect-go_out="$out" --connect-go_opt=paths=source_relative \
	knhk/v1/*.proto
