// This file implements the text forms of a duration that the JSON boundary
// reads: Go's ("1h30m", "1.5s", "-2m") and every literal of the language
// ("2d", "1d12h"), so that an input can say what a program can.

package eval

import (
	"strings"
	"time"
)

// parseDuration reads s as a Go duration or a KNHK duration literal, with
// an optional sign.
func parseDuration(s string) (time.Duration, bool) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, true
	}
	neg := strings.HasPrefix(s, "-")
	rest := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if rest == "" {
		return 0, false
	}
	var total uint64
	for rest != "" {
		i := 0
		var n uint64
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			n = n*10 + uint64(rest[i]-'0')
			if n > 1<<63 {
				return 0, false
			}
			i++
		}
		if i == 0 {
			return 0, false
		}
		unit, scale := durationUnit(rest[i:])
		if unit == 0 || n > (1<<63)/scale || total+n*scale > 1<<63 {
			return 0, false
		}
		total += n * scale
		rest = rest[i+unit:]
	}
	if neg && total > 0 {
		return time.Duration(-int64(total-1) - 1), true // -2^63 fits
	}
	if total > 1<<63-1 {
		return 0, false
	}
	return time.Duration(total), true
}

// durationUnit returns the length of the literal unit at the start of s
// (ns, us, ms, s, m, h, d, as in the language's lexer) and its size in
// nanoseconds.
func durationUnit(s string) (int, uint64) {
	for _, u := range []struct {
		name  string
		scale uint64
	}{{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"h", 3600e9}, {"m", 60e9}, {"s", 1e9}, {"d", 86400e9}} {
		if strings.HasPrefix(s, u.name) {
			return len(u.name), u.scale
		}
	}
	return 0, 0
}
