// This file implements reading JSON numbers as integers exactly: a number
// is an int only when its decimal value is whole, however it is written
// (1, 1.0, 1e3), so that neither a fraction too small for a float64
// (1.0000000000000000001, 1e-400) nor a value just outside int64's range
// is rounded into one.

package eval

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
)

// parseInt reads a JSON number as an integer of kind k: fractions are
// rejected, an exponent is fine when the value is whole.
func parseInt(s string, k ir.Kind) (int64, error) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	switch k {
	case ir.KindI32:
		lo, hi = math.MinInt32, math.MaxInt32
	case ir.KindU32:
		lo, hi = 0, math.MaxUint32
	}
	i, err := wholeNumber(s)
	switch err {
	case nil:
	case errFraction:
		return 0, fmt.Errorf("expected %s, found number %s with a fraction", k, clip(s))
	case errBig:
		return 0, fmt.Errorf("number %s out of range for %s", clip(s), k)
	default:
		return 0, fmt.Errorf("expected %s, found %s", k, strconv.Quote(clip(s)))
	}
	if i < lo || i > hi {
		return 0, fmt.Errorf("number %s out of range for %s", clip(s), k)
	}
	return i, nil
}

type numError string

func (e numError) Error() string { return string(e) }

const (
	errFraction = numError("fraction")
	errBig      = numError("out of range")
	errSyntax   = numError("not a number")
)

// wholeNumber reads s, in JSON's number syntax, as an int64 when its exact
// value is a whole number in range: errFraction when it is not whole,
// errBig when it is whole but outside int64, errSyntax when s is not a
// number.
func wholeNumber(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	rest := strings.TrimPrefix(s, "-")
	mant, exp := rest, ""
	if i := strings.IndexAny(rest, "eE"); i >= 0 {
		mant, exp = rest[:i], rest[i+1:]
	}
	whole, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		whole, frac = mant[:i], mant[i+1:]
		if frac == "" {
			return 0, errSyntax
		}
	}
	if whole == "" || !digits(whole) || !digits(frac) {
		return 0, errSyntax
	}
	e, err := exponent(exp)
	if err != nil {
		return 0, err
	}
	// The value is ds × 10^e with ds the digits and no trailing zeros.
	ds := strings.TrimLeft(whole+frac, "0")
	e -= int64(len(frac))
	for strings.HasSuffix(ds, "0") {
		ds, e = ds[:len(ds)-1], e+1
	}
	switch {
	case ds == "":
		return 0, nil
	case e < 0:
		return 0, errFraction
	case int64(len(ds))+e > 19: // int64 has at most 19 digits
		return 0, errBig
	}
	text := ds + strings.Repeat("0", int(e))
	if neg {
		text = "-" + text
	}
	i, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, errBig
	}
	return i, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// exponent reads an exponent's text, clamping huge ones: beyond ±10^9
// every non-zero value is out of range or a fraction anyway.
func exponent(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	neg := s[0] == '-'
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	if s == "" || !digits(s) {
		return 0, errSyntax
	}
	s = strings.TrimLeft(s, "0")
	var e int64 = 1 << 40
	if len(s) <= 10 {
		e, _ = strconv.ParseInt("0"+s, 10, 64)
	}
	if neg {
		e = -e
	}
	return e, nil
}
