// This file implements reading JSON text into the generic tree that the
// typed decoder walks, with the limits the boundary promises: at most
// [MaxDepth] levels of nesting and strings that are valid UTF-8.

package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxDepth is how deeply arrays and objects may nest in a JSON value that
// crosses the boundary, in either direction. The event log wraps values in
// a few levels of its own and its readers refuse nesting beyond 10,000,
// so a value this package accepts is always readable back; [ToJSON]
// refuses deeper values with the same limit, so that the two agree.
const MaxDepth = 1000

// parser builds the tree of one JSON value token by token, so that depth
// is bounded before the tree is built and every string can be compared
// with its raw text (encoding/json silently turns invalid UTF-8 and lone
// surrogate escapes into U+FFFD).
type parser struct {
	data []byte
	dec  *json.Decoder
	last int64 // input offset after the previous token
	name string
}

// parseJSON reads data as one JSON value; name starts the path of errors.
// Text within the limits, the usual case, is decoded by encoding/json in
// one call; text that a quick scan finds too deep or with a bad string
// is read token by token, which names the path of the problem.
func parseJSON(data []byte, name string) (any, error) {
	if x, ok := scalarJSON(data); ok {
		return x, nil
	}
	if !needsCare(data) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var x any
		if err := dec.Decode(&x); err != nil {
			return nil, &DecodeError{Path: name, Msg: "invalid JSON: " + err.Error()}
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, &DecodeError{Path: name, Msg: "invalid JSON: data after the value"}
		}
		return x, nil
	}
	return parseCarefully(data, name)
}

// scalarJSON reads data that is one number, true, false or null
// (between JSON white space) as encoding/json with UseNumber does, and
// reports false for anything else: most task results and arguments are
// such scalars, and a decoder cost a 512-byte buffer and more each.
func scalarJSON(data []byte) (any, bool) {
	v := bytes.Trim(data, " \t\r\n")
	if len(v) == 0 {
		return nil, false
	}
	switch c := v[0]; {
	case c == '-' || c >= '0' && c <= '9':
		if !json.Valid(v) {
			return nil, false
		}
		return json.Number(v), true
	case string(v) == "true":
		return true, true
	case string(v) == "false":
		return false, true
	case string(v) == "null":
		return nil, true
	}
	return nil, false
}

// needsCare reports whether data nests deeper than MaxDepth or has a
// string with invalid UTF-8 or an unpaired surrogate escape. It does not
// check the syntax, which the decoder does.
func needsCare(data []byte) bool {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '[', '{':
			if depth++; depth > MaxDepth {
				return true
			}
		case ']', '}':
			depth--
		case '"':
			for i++; i < len(data) && data[i] != '"'; {
				switch c := data[i]; {
				case c == '\\' && i+5 < len(data) && data[i+1] == 'u':
					r := hex4(data[i+2 : i+6])
					switch {
					case r >= 0xD800 && r < 0xDC00: // must pair with a low one
						if i+11 >= len(data) || data[i+6] != '\\' || data[i+7] != 'u' {
							return true
						}
						if lo := hex4(data[i+8 : i+12]); lo < 0xDC00 || lo >= 0xE000 {
							return true
						}
						i += 12
					case r >= 0xDC00 && r < 0xE000:
						return true
					default:
						i += 6
					}
				case c == '\\':
					i += 2
				case c >= utf8.RuneSelf:
					r, n := utf8.DecodeRune(data[i:])
					if r == utf8.RuneError && n == 1 {
						return true
					}
					i += n
				default:
					i++
				}
			}
		}
	}
	return false
}

// hex4 reads four hex digits; -1 when they are not.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return -1
		}
	}
	return r
}

// parseCarefully reads data token by token (see parser).
func parseCarefully(data []byte, name string) (any, error) {
	p := &parser{data: data, dec: json.NewDecoder(bytes.NewReader(data)), name: name}
	p.dec.UseNumber()
	x, err := p.value(name, 0)
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &DecodeError{Path: name, Msg: "invalid JSON: data after the value"}
	}
	return x, nil
}

func (p *parser) token(path string) (json.Token, error) {
	p.last = p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, &DecodeError{Path: p.name, Msg: "invalid JSON: " + err.Error()}
	}
	if s, ok := tok.(string); ok {
		if err := p.checkString(s, path); err != nil {
			return nil, err
		}
	}
	return tok, nil
}

// checkString reports a string whose decoded form has more U+FFFD runes
// than its raw text spells (literally or as \ufffd): encoding/json put
// them there in place of invalid UTF-8 or a lone surrogate.
func (p *parser) checkString(s, path string) error {
	if !strings.ContainsRune(s, utf8.RuneError) {
		return nil
	}
	raw := p.data[p.last:p.dec.InputOffset()]
	spelled := bytes.Count(raw, []byte("\uFFFD")) + bytes.Count(bytes.ToLower(raw), []byte(`\ufffd`))
	if strings.Count(s, "\uFFFD") > spelled {
		return &DecodeError{Path: path, Msg: "string is not valid UTF-8 (invalid bytes or a lone surrogate escape); use bytes for binary data"}
	}
	return nil
}

func (p *parser) value(path string, depth int) (any, error) {
	tok, err := p.token(path)
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= MaxDepth {
		return nil, &DecodeError{Path: path, Msg: fmt.Sprintf("nested more than %d levels deep", MaxDepth)}
	}
	switch d {
	case '[':
		xs := []any{}
		for p.dec.More() {
			x, err := p.value(path+"["+strconv.Itoa(len(xs))+"]", depth+1)
			if err != nil {
				return nil, err
			}
			xs = append(xs, x)
		}
		_, err := p.token(path) // ]
		return xs, err
	case '{':
		obj := map[string]any{}
		for p.dec.More() {
			k, err := p.token(path)
			if err != nil {
				return nil, err
			}
			key := k.(string) // Token only returns strings for keys
			x, err := p.value(join(path, key), depth+1)
			if err != nil {
				return nil, err
			}
			obj[key] = x
		}
		_, err := p.token(path) // }
		return obj, err
	}
	return nil, &DecodeError{Path: path, Msg: fmt.Sprintf("invalid JSON: unexpected %v", d)}
}
