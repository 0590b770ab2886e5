package ir

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// FuzzDecode checks that Decode never panics, that every error wraps
// ErrMalformed, and that whatever it accepts is a verified program whose
// encoding is the input itself and which prints. The seed corpus lives in
// testdata/fuzz/FuzzDecode; KNHK_UPDATE=1 go test -run FuzzDecode
// rewrites its generated seeds.
func FuzzDecode(f *testing.F) {
	for _, b := range seedEncodings(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkDecode(t, in)
	})
}

func seedEncodings(tb testing.TB) [][]byte {
	var out [][]byte
	for _, p := range []*Program{sampleProgram(), NewProgram("empty")} {
		b, err := p.Encode()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	if os.Getenv("KNHK_UPDATE") != "" {
		dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		for i, b := range out {
			data := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
			if err := os.WriteFile(filepath.Join(dir, "seed"+strconv.Itoa(i)), []byte(data), 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return out
}
