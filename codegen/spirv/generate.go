// This file holds the go:generate directive that writes tables.go from
// the SPIR-V grammars of Debian's spirv-headers; TestTablesCurrent checks
// that the committed file is what it writes.

package spirv

//go:generate go run ./internal/grammar/gen -o tables.go
