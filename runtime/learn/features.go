// This file implements the encoding of a route's feature values: a
// discrete state key for the tabular policies and a dense vector for the
// network.

package learn

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// featureKind is the kind of value a feature holds.
type featureKind uint8

const (
	fAny featureKind = iota // not known from the program: set by the first value
	fNumber
	fBool
	fString // strings and enum members
	fDuration
	fTime
)

var kindNames = [...]string{fAny: "any", fNumber: "number", fBool: "bool", fString: "string", fDuration: "duration", fTime: "time"}

func (k featureKind) String() string { return kindNames[k] }

// kindOfType maps a feature's type in the program to its kind; a type
// that is not a scalar gives fAny (the checker rejects such features).
func kindOfType(k ir.Kind) featureKind {
	switch k {
	case ir.KindInt, ir.KindI32, ir.KindU32, ir.KindFloat, ir.KindF32:
		return fNumber
	case ir.KindBool:
		return fBool
	case ir.KindString, ir.KindEnum:
		return fString
	case ir.KindDuration:
		return fDuration
	case ir.KindTime:
		return fTime
	}
	return fAny
}

// kindOfValue returns the kind of an engine value, false when it is not a
// scalar a policy can read.
func kindOfValue(v eval.Value) (featureKind, bool) {
	k := kindOfType(v.Kind())
	return k, k != fAny
}

// number returns v as a float64; durations in seconds, times in hours
// of the day (UTC).
func number(v eval.Value) float64 {
	switch v.Kind() {
	case ir.KindInt, ir.KindI32:
		return float64(v.AsInt())
	case ir.KindU32:
		return float64(uint32(v.AsInt()))
	case ir.KindFloat, ir.KindF32:
		return v.AsFloat()
	case ir.KindDuration:
		return v.AsDuration().Seconds()
	case ir.KindTime:
		return float64(v.AsTime().Hour())
	case ir.KindBool:
		if v.AsBool() {
			return 1
		}
	}
	return 0
}

// vectorDims is the length of the dense encoding: one-hot slots given
// to tokens in the order they are first seen, and a bias. Tokens beyond
// the slots are left out of the vector (the tables still see them).
const vectorDims = 257

// encoder turns feature values into a state key and a vector. Bins, when
// given for a numeric feature, are its bucket edges; otherwise a number
// falls in a bucket per power of two of its magnitude, which keeps
// amounts, counts and durations of every scale apart with few states.
type encoder struct {
	kinds []featureKind
	bins  [][]float64
}

// input is one encoded decision context: the state key of the tables
// and the tokens (feature position and bucket) the network reads.
type input struct {
	key  string
	toks []string
}

// bucket returns the discrete bucket of numeric feature i.
func (e *encoder) bucket(i int, x float64) int {
	if i < len(e.bins) && e.bins[i] != nil {
		return sort.SearchFloat64s(e.bins[i], x)
	}
	b := int(math.Ceil(math.Log2(1 + math.Abs(x))))
	if x < 0 {
		b = -b
	}
	return b
}

// bucketName names bucket b of numeric feature i by the interval it
// covers, such as (1,3] or (3s,7s], so that status shows states a user
// can read.
func (e *encoder) bucketName(i, b int, seconds bool) string {
	var lo, hi string
	num := func(x float64) string {
		out := strconv.FormatFloat(x, 'g', 6, 64)
		if seconds {
			out += "s"
		}
		return out
	}
	if i < len(e.bins) && e.bins[i] != nil {
		lo, hi = "-inf", "+inf"
		if b > 0 {
			lo = num(e.bins[i][b-1])
		}
		if b < len(e.bins[i]) {
			hi = num(e.bins[i][b])
		}
		return "(" + lo + "," + hi + "]"
	}
	edge := func(k int) float64 { return math.Exp2(float64(k)) - 1 }
	switch {
	case b == 0:
		return num(0)
	case b > 0:
		return "(" + num(edge(b-1)) + "," + num(edge(b)) + "]"
	}
	return "[" + num(-edge(-b)) + "," + num(-edge(-b-1)) + ")"
}

// encode checks features against the route's kinds and encodes them.
func (e *encoder) encode(features []eval.Value) (input, error) {
	if len(features) != len(e.kinds) {
		return input{}, fmt.Errorf("got %d features, the route has %d", len(features), len(e.kinds))
	}
	var sb strings.Builder
	toks := make([]string, len(features))
	for i, v := range features {
		k, ok := kindOfValue(v)
		if !ok {
			return input{}, fmt.Errorf("feature %d is a %s, not a scalar", i+1, v.Kind())
		}
		if want := e.kinds[i]; want != fAny && want != k {
			return input{}, fmt.Errorf("feature %d is a %s (%v), the route's is a %s", i+1, k, v, want)
		}
		var tok string
		switch k {
		case fString:
			tok = strconv.Quote(v.AsString())
		case fBool:
			tok = strconv.FormatBool(v.AsBool())
		default:
			f := number(v)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return input{}, fmt.Errorf("feature %d is %v", i+1, f)
			}
			if k == fTime {
				tok = strconv.Itoa(int(f)) + "h"
			} else {
				tok = e.bucketName(i, e.bucket(i, f), k == fDuration)
			}
		}
		if i > 0 {
			sb.WriteByte('|')
		}
		sb.WriteString(tok)
		toks[i] = strconv.Itoa(i) + ":" + tok
	}
	return input{key: sb.String(), toks: toks}, nil
}

// keyOf returns the state key of tokens: each token without its
// position prefix, joined by '|', as encode and withLoads write it.
func keyOf(toks []string) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		_, parts[i], _ = strings.Cut(t, ":")
	}
	return strings.Join(parts, "|")
}

// withLoads returns in with the running calls of each candidate added
// after the features, for a coordinated route.
func withLoads(in input, loads []int) input {
	if len(loads) == 0 {
		return in
	}
	toks := append([]string(nil), in.toks...)
	var sb strings.Builder
	sb.WriteString(in.key)
	for j, l := range loads {
		tok := "L" + strconv.Itoa(loadBucket(l))
		sb.WriteString("|")
		sb.WriteString(tok)
		toks = append(toks, "load"+strconv.Itoa(j)+":"+tok)
	}
	return input{key: sb.String(), toks: toks}
}

// loadBucket discretises a number of running calls: 0, 1, 2-3, 4-7, ...
func loadBucket(n int) int {
	b := 0
	for n > 0 {
		b++
		n >>= 1
	}
	return b
}
