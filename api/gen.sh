#!/bin/sh
# gen.sh OUT: generates the Go code of knhk/v1/*.proto under OUT with
# protoc (Debian package protobuf-compiler) and the plugins pinned by
# go.mod's tool directives, run with go tool. Run from api/.
set -eu
out=${1:-.}
mkdir -p "$out"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
# protoc finds plugins on PATH by name; each wrapper runs the pinned one.
for tool in protoc-gen-go protoc-gen-connect-go; do
	printf '#!/bin/sh\nexec go tool %s "$@"\n' "$tool" >"$bin/$tool"
	chmod +x "$bin/$tool"
done
PATH="$bin:$PATH" protoc -I . \
	--go_out="$out" --go_opt=paths=source_relative \
	--connect-go_out="$out" --connect-go_opt=paths=source_relative \
	knhk/v1/*.proto
