// This file decides which of the Connect API's answers are gzipped, for
// a single server (mux.go) and a raft or BFT cluster's nodes alike.

package server

import (
	"math"

	"connectrpc.com/connect"
)

// compressMinBytes is the size from which an answer is gzipped for a
// client that accepts it: below it a message gains a few bytes at most
// and costs gzip's CPU (and a writer's allocations) on both sides.
// Connect's default is 0, every answer compressed.
const compressMinBytes = 4096

// apiCompression is the Connect API's compression: answers of
// compressMinBytes and more only.
func apiCompression() connect.HandlerOption { return connect.WithCompressMinBytes(compressMinBytes) }

// streamCompression is the task stream's: never. A message of many
// tasks passes 4 KiB (a stream shared by a process's workers carries up
// to 256), and compressing them was 4% of the CPU of bench/serve's
// queue benchmark at 1,000 cases in flight, for a stream that serves
// workers next to the server, not across a slow link.
func streamCompression() connect.HandlerOption { return connect.WithCompressMinBytes(math.MaxInt32) }
