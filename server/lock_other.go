//go:build !unix

package server

import "os"

// lockDir opens path; without flock nothing stops a second server.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
}

// Running reports false: without flock a running server is not seen.
func Running(dir string) bool { return false }
