// This file checks the KEM against independent implementations: circl's
// ML-KEM-768 (inside X-Wing) against Go's crypto/mlkem and NIST's ACVP
// known answers, and circl's X-Wing against an X-Wing decapsulation
// built here from Go's crypto/mlkem, crypto/ecdh and crypto/sha3.

package seal

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdh"
	"crypto/mlkem"
	"crypto/mlkem/mlkemtest"
	"crypto/rand"
	"crypto/sha3"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
	"github.com/cloudflare/circl/kem/xwing"
)

// Keys from one seed are equal, and each side decapsulates what the
// other encapsulated.
func TestMLKEM768MatchesStdlib(t *testing.T) {
	for i := 0; i < 8; i++ {
		seed := make([]byte, mlkem768.KeySeedSize)
		rand.Read(seed)
		cpk, csk := mlkem768.NewKeyFromSeed(seed)
		std, err := mlkem.NewDecapsulationKey768(seed)
		if err != nil {
			t.Fatal(err)
		}
		cb, _ := cpk.MarshalBinary()
		if !bytes.Equal(cb, std.EncapsulationKey().Bytes()) {
			t.Fatal("encapsulation keys differ for one seed")
		}
		ss, ct := std.EncapsulationKey().Encapsulate()
		got := make([]byte, mlkem768.SharedKeySize)
		csk.DecapsulateTo(got, ct)
		if !bytes.Equal(got, ss) {
			t.Fatal("circl decapsulates crypto/mlkem's ciphertext to another secret")
		}
		ct2 := make([]byte, mlkem768.CiphertextSize)
		ss2 := make([]byte, mlkem768.SharedKeySize)
		cpk.EncapsulateTo(ct2, ss2, nil)
		back, err := std.Decapsulate(ct2)
		if err != nil || !bytes.Equal(back, ss2) {
			t.Fatalf("crypto/mlkem decapsulates circl's ciphertext to another secret: %v", err)
		}
	}
}

func circlDir(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/cloudflare/circl").Output()
	if err != nil {
		t.Fatalf("go list circl: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func readGz(t *testing.T, path string, v any) {
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
		t.Fatal(err)
	}
}

type acvpFile struct {
	TestGroups []struct {
		TgID         int    `json:"tgId"`
		ParameterSet string `json:"parameterSet"`
		Function     string `json:"function"`
		DK           string `json:"dk"`
		Tests        []struct {
			TcID int    `json:"tcId"`
			D    string `json:"d"`
			Z    string `json:"z"`
			EK   string `json:"ek"`
			M    string `json:"m"`
			C    string `json:"c"`
			K    string `json:"k"`
		} `json:"tests"`
	} `json:"testGroups"`
}

func unhex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMLKEM768ACVP runs the ML-KEM-768 keyGen and encapsulation known
// answers through both circl and crypto/mlkem, and the decapsulation
// ones through both.
func TestMLKEM768ACVP(t *testing.T) {
	dir := filepath.Join(circlDir(t), "kem", "mlkem", "testdata")
	var kp, kr, ep, er acvpFile
	readGz(t, filepath.Join(dir, "ML-KEM-keyGen-FIPS203", "prompt.json.gz"), &kp)
	readGz(t, filepath.Join(dir, "ML-KEM-keyGen-FIPS203", "expectedResults.json.gz"), &kr)
	readGz(t, filepath.Join(dir, "ML-KEM-encapDecap-FIPS203", "prompt.json.gz"), &ep)
	readGz(t, filepath.Join(dir, "ML-KEM-encapDecap-FIPS203", "expectedResults.json.gz"), &er)
	type res struct{ ek, c, k string }
	answers := func(f *acvpFile) map[int]res {
		m := map[int]res{}
		for _, g := range f.TestGroups {
			for _, c := range g.Tests {
				m[c.TcID] = res{strings.ToLower(c.EK), strings.ToLower(c.C), strings.ToLower(c.K)}
			}
		}
		return m
	}
	want := answers(&kr) // test case ids repeat across the two files
	n := 0
	for _, g := range kp.TestGroups {
		if g.ParameterSet != "ML-KEM-768" {
			continue
		}
		for _, c := range g.Tests {
			seed := append(unhex(t, c.D), unhex(t, c.Z)...)
			cpk, _ := mlkem768.NewKeyFromSeed(seed)
			cb, _ := cpk.MarshalBinary()
			std, _ := mlkem.NewDecapsulationKey768(seed)
			if hex.EncodeToString(cb) != want[c.TcID].ek || hex.EncodeToString(std.EncapsulationKey().Bytes()) != want[c.TcID].ek {
				t.Fatalf("keyGen tcId %d differs from the known answer", c.TcID)
			}
			n++
		}
	}
	want = answers(&er)
	for _, g := range ep.TestGroups {
		if g.ParameterSet != "ML-KEM-768" {
			continue
		}
		for _, c := range g.Tests {
			w := want[c.TcID]
			switch g.Function {
			case "encapsulation":
				var pk mlkem768.PublicKey
				if err := pk.Unpack(unhex(t, c.EK)); err != nil {
					t.Fatal(err)
				}
				ct := make([]byte, mlkem768.CiphertextSize)
				ss := make([]byte, mlkem768.SharedKeySize)
				pk.EncapsulateTo(ct, ss, unhex(t, c.M))
				ek, err := mlkem.NewEncapsulationKey768(unhex(t, c.EK))
				if err != nil {
					t.Fatal(err)
				}
				sss, sct, err := mlkemtest.Encapsulate768(ek, unhex(t, c.M))
				if err != nil {
					t.Fatal(err)
				}
				if hex.EncodeToString(ct) != w.c || hex.EncodeToString(ss) != w.k || hex.EncodeToString(sct) != w.c || hex.EncodeToString(sss) != w.k {
					t.Fatalf("encapsulation tcId %d differs from the known answer", c.TcID)
				}
			case "decapsulation":
				var sk mlkem768.PrivateKey
				if err := sk.Unpack(unhex(t, g.DK)); err != nil {
					t.Fatal(err)
				}
				ss := make([]byte, mlkem768.SharedKeySize)
				sk.DecapsulateTo(ss, unhex(t, c.C))
				if hex.EncodeToString(ss) != w.k {
					t.Fatalf("decapsulation tcId %d differs from the known answer", c.TcID)
				}
			}
			n++
		}
	}
	if n < 20 {
		t.Fatalf("only %d vectors", n)
	}
	t.Logf("%d ML-KEM-768 ACVP vectors", n)
}

// TestXWingIndependently decapsulates circl's X-Wing ciphertexts with an
// X-Wing written from Go's standard library: SHAKE256 expands the seed
// into the ML-KEM-768 seed and the X25519 key, and the shared secret is
// SHA3-256(ss_M || ss_X || ct_X || pk_X || label).
func TestXWingIndependently(t *testing.T) {
	for i := 0; i < 8; i++ {
		k, err := GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		exp := sha3.SumSHAKE256(k.seed, 96)
		dk, err := mlkem.NewDecapsulationKey768(exp[:64])
		if err != nil {
			t.Fatal(err)
		}
		xsk, err := ecdh.X25519().NewPrivateKey(exp[64:96])
		if err != nil {
			t.Fatal(err)
		}
		pkX := xsk.PublicKey().Bytes()
		if !bytes.Equal(k.pub.raw, append(dk.EncapsulationKey().Bytes(), pkX...)) {
			t.Fatal("X-Wing public key is not ML-KEM-768 ek || X25519 pk")
		}
		seed := make([]byte, xwing.EncapsulationSeedSize)
		rand.Read(seed)
		ss, ct, err := xwing.Encapsulate(k.pub.raw, seed)
		if err != nil {
			t.Fatal(err)
		}
		ctM, ctX := ct[:mlkem768.CiphertextSize], ct[mlkem768.CiphertextSize:]
		ssM, err := dk.Decapsulate(ctM)
		if err != nil {
			t.Fatal(err)
		}
		peer, err := ecdh.X25519().NewPublicKey(ctX)
		if err != nil {
			t.Fatal(err)
		}
		ssX, err := xsk.ECDH(peer)
		if err != nil {
			t.Fatal(err)
		}
		h := sha3.New256()
		for _, b := range [][]byte{ssM, ssX, ctX, pkX, []byte(`\.//^\`)} {
			h.Write(b)
		}
		if !bytes.Equal(h.Sum(nil), ss) {
			t.Fatal("the standard-library X-Wing finds another shared secret")
		}
	}
}
