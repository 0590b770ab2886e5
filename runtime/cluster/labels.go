// This file implements node labels as the command line gives them:
// KEY=VALUE pairs separated by commas.

package cluster

import (
	"fmt"
	"strings"
)

// ParseLabels parses "K=V,K=V". Keys are non-empty and unique, and
// neither keys nor values hold a comma or an equals sign; white space
// around them is dropped. An empty string is no labels.
func ParseLabels(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "":
			return nil, fmt.Errorf("bad label %q: want KEY=VALUE", kv)
		case strings.Contains(v, "="):
			return nil, fmt.Errorf("bad label %q: the value holds '='", kv)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("label %s is given twice", k)
		}
		out[k] = v
	}
	return out, nil
}

// FormatLabels writes labels as ParseLabels reads them, keys sorted.
func FormatLabels(labels map[string]string) string {
	var b strings.Builder
	for i, k := range sortedKeys(labels) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + labels[k])
	}
	return b.String()
}
