package spirv

//go:generate go run ./internal/grammar/gen -o tables.go
