package sign

import (
	"strings"
	"testing"
)

// TestEnvelope seals a document and opens it, then each way a file is
// refused: too large, another block type, another version, unknown or
// trailing JSON, a failing check, another domain and a changed document.
func TestEnvelope(t *testing.T) {
	k, err := Generate(Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	env := Envelope{BlockType: "KNHK TEST", Version: 2, Domain: "test/v1", Max: 4 << 10, Noun: "test doc", File: "test file"}
	type doc struct {
		N int `json:"n"`
	}
	b, err := env.Seal(k, []byte(`{"n":7}`))
	if err != nil {
		t.Fatal(err)
	}
	var d doc
	raw, s, err := env.Open(b, &d, func() error { return nil })
	if err != nil || d.N != 7 || string(raw) != `{"n":7}` || s.Subject != EnvelopeSubject(raw) || s.Verify(k.Public()) != nil {
		t.Fatalf("open: %v, %+v, %q", err, d, raw)
	}
	other := env
	other.Domain = "other/v1"
	otherFile, err := other.Seal(k, []byte(`{"n":7}`))
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(string(b), "eyJuIjo3fQ==", "eyJuIjo4fQ==", 1) // {"n":8}
	if tampered == string(b) {
		t.Fatal("the test's tampering did not apply")
	}
	for _, c := range []struct {
		name, file, want string
		check            func() error
	}{
		{"large", strings.Repeat(" ", 5<<10), "test file is more than 4096 bytes", nil},
		{"empty", "", "not a test file: no KNHK TEST block", nil},
		{"type", strings.ReplaceAll(string(b), "KNHK TEST", "KNHK OTHER"), "not a test file: a KNHK OTHER block where a KNHK TEST block should be", nil},
		{"version", strings.Replace(string(b), "Version: 2", "Version: 1", 1), `test doc version "1"; this knhk reads version 2`, nil},
		{"check", string(b), "no sevens", func() error { return errStr("no sevens") }},
		{"domain", string(otherFile), "test doc signature is for other/v1, not test/v1", nil},
		{"tampered", tampered, "test doc is tampered", nil},
		{"unsigned", strings.Split(string(b), "-----BEGIN "+SignatureType)[0], "test doc signature: ", nil},
	} {
		check := c.check
		if check == nil {
			check = func() error { return nil }
		}
		var d doc
		if _, _, err := env.Open([]byte(c.file), &d, check); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	for _, body := range []string{`{"n":7,"m":1}`, `{"n":7}{}`} {
		f, err := env.Seal(k, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		var d doc
		if _, _, err := env.Open(f, &d, func() error { return nil }); err == nil || !strings.Contains(err.Error(), "bad test doc payload") {
			t.Errorf("%s: got %v", body, err)
		}
	}
}

type errStr string

func (e errStr) Error() string { return string(e) }
