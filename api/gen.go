// Package api holds the protobuf schema of the KNHK server (knhk/v1) and
// the code generated from it, which is committed so that building knhk
// needs no protoc.
//
// go generate ./api rebuilds the generated code with protoc (Debian
// package protobuf-compiler) and the plugins pinned by go.mod's tool
// directives, run with go tool (gen.sh); TestGenerated checks that the
// committed code is what they produce.
package api

//go:generate sh gen.sh .
