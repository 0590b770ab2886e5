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
	base := timeRun(b, "encoding-json", func() error {
		var x any
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.UseNumber()
		return dec.Decode(&x)
	})
	quick := timeRun(b, "parseJSON", func() error {
		_, err := parseJSON(text, "o")
		return err
	})
	careful := timeRun(b, "careful", func() error {
		_, err := parseCarefully(text, "o")
		return err
	})
	ours := timeRun(b, "FromJSON", func() error {
		_, err := FromJSON(p, order, text)
		return err
	})
	if base > 0 {
		b.Logf("%d-item order: encoding/json tree %v; parseJSON %v (ratio %.2f); careful reader %v (ratio %.2f); FromJSON %v (ratio %.2f)",
			len(items), base, quick, float64(quick)/float64(base), careful, float64(careful)/float64(base), ours, float64(ours)/float64(base))
	}
}

// timeRun runs f as sub-benchmark name and returns the time of one run.
func timeRun(b *testing.B, name string, f func() error) time.Duration {
	var d time.Duration
	b.Run(name, func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
		d = time.Since(start) / time.Duration(b.N)
	})
	return d
}
