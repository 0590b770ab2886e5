// This file benchmarks reading a JSON input: FromJSON (token by token,
// with the depth and UTF-8 checks) against encoding/json decoding the
// same text into a generic tree, the reader it replaced, with the ratio.

package eval

import (
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
			if err := json.Unmarshal(text, &x); err != nil {
				b.Fatal(err)
			}
		}
		base = time.Since(start) / time.Duration(b.N)
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
		b.Logf("FromJSON %v per %d-item order, encoding/json tree %v: ratio %.2f", ours, len(items), base, float64(ours)/float64(base))
	}
}
