// This file checks ML-DSA key generation against NIST's ACVP known
// answers (FIPS 204 keyGen). The vectors ship inside circl's module,
// which the build already downloaded; the test reads them from the
// module cache rather than keeping a copy.

package sign

import (
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// circlDir returns the directory of the circl module the build uses.
func circlDir(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/cloudflare/circl").Output()
	if err != nil {
		t.Fatalf("go list circl: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func readGzJSON(t *testing.T, path string, v any) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(z).Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestMLDSAKeyGenACVP derives every ACVP keyGen seed through the same
// path a key file takes (privateFromBytes) and compares the public key.
func TestMLDSAKeyGenACVP(t *testing.T) {
	dir := filepath.Join(circlDir(t), "sign", "mldsa", "testdata", "ML-DSA-keyGen-FIPS204")
	var prompt struct {
		TestGroups []struct {
			TgID         int    `json:"tgId"`
			ParameterSet string `json:"parameterSet"`
			Tests        []struct {
				TcID int    `json:"tcId"`
				Seed string `json:"seed"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	var results struct {
		TestGroups []struct {
			TgID  int `json:"tgId"`
			Tests []struct {
				TcID int    `json:"tcId"`
				PK   string `json:"pk"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	readGzJSON(t, filepath.Join(dir, "prompt.json.gz"), &prompt)
	readGzJSON(t, filepath.Join(dir, "expectedResults.json.gz"), &results)
	want := map[[2]int]string{}
	for _, g := range results.TestGroups {
		for _, c := range g.Tests {
			want[[2]int{g.TgID, c.TcID}] = strings.ToLower(c.PK)
		}
	}
	algOf := map[string]Algorithm{"ML-DSA-44": MLDSA44, "ML-DSA-65": MLDSA65, "ML-DSA-87": MLDSA87}
	n := 0
	for _, g := range prompt.TestGroups {
		alg, ok := algOf[g.ParameterSet]
		if !ok {
			t.Fatalf("unknown parameter set %s", g.ParameterSet)
		}
		for _, c := range g.Tests {
			seed, err := hex.DecodeString(c.Seed)
			if err != nil {
				t.Fatal(err)
			}
			k, err := privateFromBytes(alg, seed)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(k.Public().Bytes()); got != want[[2]int{g.TgID, c.TcID}] {
				t.Fatalf("%s tcId %d: public key differs from the known answer", alg, c.TcID)
			}
			n++
		}
	}
	if n < 3 {
		t.Fatalf("only %d vectors checked", n)
	}
	t.Logf("%d ACVP keyGen vectors", n)
}
