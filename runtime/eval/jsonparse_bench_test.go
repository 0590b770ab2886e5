// This file benchmarks reading a JSON input: the generic tree read by
// parseJSON (a scan for depth and bad strings, then encoding/json) and by
// the careful token-by-token reader, against encoding/json alone (the
// reader before the checks), with the ratios; and FromJSON in all.

package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func BenchmarkFromJSON(b *testing.B) {
	p := lowerFile(b, ordersFile)
	var items []string
	for i := 0; i < 10000; i++ {
		items = append(items, fmt.Sprintf(`{"sku":"s%d","qty":%d,"price":%d.25}`, i, i%5+1, i))
	}
	text := []byte(`{"id":"o1","customer":` + customer + `,"items":[` + strings.Join(items, ",") + `],"coupon":"VIP15"}`)
	order := p.Nets[0].Vars[0].Type
	var base, ours time.Duration
	b.Run("encoding-json", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			var x any
			dec := json.NewDecoder(bytes.NewReader(text))
			dec.UseNumber()
			if err := dec.Decode(&x); err != nil {
				b.Fatal(err)
			}
		}
		base = time.Since(start) / time.Duration(b.N)
	})
	var quick, careful time.Duration
	b.Run("parseJSON", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			if _, err := parseJSON(text, "o"); err != nil {
				b.Fatal(err)
			}
		}
		quick = time.Since(start) / time.Duration(b.N)
	})
	b.Run("careful", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			if _, err := parseCarefully(text, "o"); err != nil {
				b.Fatal(err)
			}
		}
		careful = time.Since(start) / time.Duration(b.N)
	})
	b.Run("FromJSON", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			if _, err := FromJSON(p, order, text); err != nil {
				b.Fatal(err)
			}
		}
		ours = time.Since(start) / time.Duration(b.N)
	})
	if base > 0 {
		b.Logf("%d-item order: encoding/json tree %v; parseJSON %v (ratio %.2f); careful reader %v (ratio %.2f); FromJSON %v (ratio %.2f)",
			len(items), base, quick, float64(quick)/float64(base), careful, float64(careful)/float64(base), ours, float64(ours)/float64(base))
	}
}
