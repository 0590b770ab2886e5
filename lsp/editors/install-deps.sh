#!/bin/sh
# Installs what the editor tests in lsp/ need (they skip without it):
#   - Neovim, from Debian, for TestNeovimClient;
#   - the npm packages of the Node LSP client (lsp/editors/e2e) for
#     TestNodeClient, and of the VS Code extension (lsp/editors/vscode) for
#     the TextMate grammar tests and vsce packaging.
# Node.js 20 and npm must already be installed. Safe to run twice.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

if ! command -v nvim >/dev/null 2>&1; then
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		sudo="sudo"
	fi
	$sudo apt-get update
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y neovim
fi

if ! command -v npm >/dev/null 2>&1; then
	echo "install-deps.sh: npm not found; install Node.js 20 first" >&2
	exit 1
fi

(cd "$here/e2e" && npm ci --no-audit --no-fund)
(cd "$here/vscode" && npm ci --no-audit --no-fund)
