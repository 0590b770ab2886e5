package cluster

import (
	"maps"
	"strings"
	"testing"
)

func TestParseLabels(t *testing.T) {
	got, err := ParseLabels(" region = eu-west , zone=b ")
	if err != nil || got["region"] != "eu-west" || got["zone"] != "b" || len(got) != 2 {
		t.Fatalf("ParseLabels: %v %v", got, err)
	}
	for in, want := range map[string]string{
		"region":          `bad label "region": want KEY=VALUE`,
		"=eu":             `bad label "=eu": want KEY=VALUE`,
		"a=1,a=2":         "label a is given twice",
		"a=b=c":           `the value holds '='`,
		"region=eu,,zone": `bad label "": want KEY=VALUE`,
	} {
		if _, err := ParseLabels(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseLabels(%q): %v, want %q", in, err, want)
		}
	}
}

func FuzzParseLabels(f *testing.F) {
	for _, s := range []string{"region=eu", "a=1,b=2", "", " x = y ", "a=b=c", ",,", "k="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseLabels(s)
		if err != nil {
			return
		}
		for k := range m {
			if k == "" || strings.ContainsAny(k, ",=") {
				t.Fatalf("key %q from %q", k, s)
			}
		}
		// What parses formats to text that parses to the same labels.
		m2, err := ParseLabels(FormatLabels(m))
		if err != nil || !maps.Equal(m, m2) {
			t.Fatalf("round trip of %q: %v -> %q -> %v %v", s, m, FormatLabels(m), m2, err)
		}
	})
}
