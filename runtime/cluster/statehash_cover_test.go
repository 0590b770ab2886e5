package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// coverFSM returns an empty FSM of testSource that compiles deploys.
func coverFSM(t *testing.T) *FSM {
	f, _ := newTestFSM(t)
	f.SetCompiler(gateCompile)
	return f
}

// checkIncremental fails when f's hash, kept up entry by entry, is not
// the hash of its state alone (a restore of its snapshot).
func checkIncremental(t *testing.T, f *FSM, after string) {
	t.Helper()
	inc := mustHash(t, f)
	g := coverFSM(t)
	if err := g.Restore(io.NopCloser(bytes.NewReader(mustSnapshot(t, f)))); err != nil {
		t.Fatal(err)
	}
	if from := mustHash(t, g); !bytes.Equal(inc, from) {
		t.Fatalf("after %s: incremental hash %x, from the state %x", after, inc, from)
	}
}

// TestStateHashCoversSnapshot: every piece of state a snapshot holds
// is in the hash. It applies one command of each op with every field
// (everyFieldCommands), then changes the snapshot in every way
// reflection finds (each number, string and byte string, each map
// entry dropped or renamed, each list shortened or reordered) and
// restores it: whenever the restored FSM holds another state (it
// snapshots otherwise), its hash must differ. The fields are found
// from the snapshot's type, so a field added later is walked like the
// others; one that the every-field snapshot leaves empty (nothing to
// change), or a top-level one that no change reaches, fails the test.
func TestStateHashCoversSnapshot(t *testing.T) {
	f := coverFSM(t)
	for i, c := range everyFieldCommands(t, f.prog) {
		if r := f.Apply(entry(t, uint64(i+1), c)).(*Result); r.Err != nil {
			t.Fatalf("command %d (%s): %v", i, c.Op, r.Err)
		}
		checkIncremental(t, f, fmt.Sprintf("command %d (%s)", i, c.Op))
	}
	base := mustSnapshot(t, f)
	baseHash := mustHash(t, f)
	decode := func() *wireSnapshot {
		var w wireSnapshot
		if err := json.Unmarshal(base, &w); err != nil {
			t.Fatal(err)
		}
		return &w
	}
	tried, reached := map[string]bool{}, map[string]int{}
	all := mutations(decode())
	for _, m := range all {
		for p := m.field; ; p = p[:strings.LastIndexByte(p, '.')] {
			tried[p] = true
			if !strings.Contains(p, ".") {
				break
			}
		}
	}
	for k := range all {
		w := decode()
		m := mutations(w)[k]
		m.apply()
		b, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		g := coverFSM(t)
		if g.Restore(io.NopCloser(bytes.NewReader(b))) != nil {
			continue // refused: not a state a replica can hold
		}
		if bytes.Equal(mustSnapshot(t, g), base) {
			continue // the restore undid the change (e.g. a dropped field)
		}
		reached[strings.SplitN(m.field, ".", 2)[0]]++
		if bytes.Equal(mustHash(t, g), baseHash) {
			t.Errorf("%s: the state changed, its hash did not", m.path)
		}
	}
	paths := map[string]bool{}
	fieldPaths(reflect.TypeFor[wireSnapshot](), "", paths)
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		if !tried[p] {
			t.Errorf("the snapshot's field %s is empty, so nothing checks that the hash covers it: give it a value in everyFieldCommands", p)
		}
	}
	// The version and the program must be the node's own to restore at
	// all (the hash's prefix and program hash cover them); every other
	// top-level field must take some change.
	exempt := map[string]bool{"V": true, "Program": true}
	ty := reflect.TypeFor[wireSnapshot]()
	for i := range ty.NumField() {
		if name := ty.Field(i).Name; !exempt[name] && reached[name] == 0 {
			t.Errorf("no change of the snapshot's field %s restores, so nothing checks that the hash covers it: give everyFieldCommands a value of it that can change", name)
		}
	}
	t.Logf("%d changes of %d fields, restored: %v", len(all), len(paths), reached)
}

// fieldPaths adds to out the dotted path of every field of type t
// (exported or embedded), through pointers, lists and maps.
func fieldPaths(t reflect.Type, prefix string, out map[string]bool) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		fieldPaths(t.Elem(), prefix, out)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			p := f.Name
			if prefix != "" {
				p = prefix + "." + f.Name
			}
			out[p] = true
			fieldPaths(f.Type, p, out)
		}
	}
}

// mutation is one change of a snapshot in place: field is the dotted
// path of the field it changes (as fieldPaths names it), path where.
type mutation struct {
	field, path string
	apply       func()
}

// mutations lists the changes of w, in an order that depends only on
// w's content (map keys sorted), so that the k-th of two equal
// snapshots is the same change.
func mutations(w *wireSnapshot) []mutation {
	var out []mutation
	walk(reflect.ValueOf(w).Elem(), "", "", func(field, path string, apply func()) {
		out = append(out, mutation{field: field, path: path, apply: apply})
	})
	return out
}

// walk calls visit with each change of v it finds; field is v's dotted
// field path, path its place.
func walk(v reflect.Value, field, path string, visit func(field, path string, apply func())) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walk(v.Elem(), field, path, visit)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			fp, pp := f.Name, f.Name
			if field != "" {
				fp, pp = field+"."+f.Name, path+"."+f.Name
			}
			walk(v.Field(i), fp, pp, visit)
		}
	case reflect.Array:
		if v.Len() > 0 {
			walk(v.Index(0), field, path+"[0]", visit)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			visit(field, path+" appended to", func() { v.SetBytes(append(bytes.Clone(v.Bytes()), 'x')) })
			if v.Len() > 0 {
				visit(field, path+" last byte flipped", func() {
					b := bytes.Clone(v.Bytes())
					b[len(b)-1] ^= 1
					v.SetBytes(b)
				})
			}
			return
		}
		n := v.Len()
		for i := range n {
			walk(v.Index(i), field, fmt.Sprintf("%s[%d]", path, i), visit)
		}
		if n > 0 {
			visit(field, path+" last dropped", func() { v.Set(v.Slice(0, n-1)) })
		}
		if n > 1 {
			visit(field, path+" first two swapped", func() { reflect.Swapper(v.Interface())(0, 1) })
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			p := fmt.Sprintf("%s[%q]", path, fmt.Sprint(k))
			visit(field, p+" dropped", func() { v.SetMapIndex(k, reflect.Value{}) })
			if k.Kind() == reflect.String {
				visit(field, p+" renamed", func() {
					e := v.MapIndex(k)
					v.SetMapIndex(k, reflect.Value{})
					v.SetMapIndex(reflect.ValueOf(k.String()+"x").Convert(k.Type()), e)
				})
			}
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			walk(e, field, p, func(field, path string, apply func()) {
				visit(field, path, func() { apply(); v.SetMapIndex(k, e) })
			})
		}
	case reflect.String:
		visit(field, path, func() { v.SetString(v.String() + "x") })
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		visit(field, path, func() { v.SetInt(v.Int() + 1) })
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		visit(field, path, func() { v.SetUint(v.Uint() + 1) })
	case reflect.Bool:
		visit(field, path, func() { v.SetBool(!v.Bool()) })
	}
}

// TestStateHashIncrementalExt: the tenancy's files replaced and
// removed, and one-time keys swept, keep the incremental hash equal to
// the hash of the state alone.
func TestStateHashIncrementalExt(t *testing.T) {
	f := coverFSM(t)
	i := uint64(0)
	apply := func(c *Command) *Result {
		i++
		c.Program = f.prog
		return f.Apply(entry(t, i, c)).(*Result)
	}
	_ = mustHash(t, f) // kept up from here on
	ten := func(base uint64, files map[string][]byte, remove ...string) {
		if r := apply(&Command{Op: OpTenant, Tenancy: &TenancyChange{Base: base, Files: files, Remove: remove, Founders: map[string]string{"t" + fmt.Sprint(i): "n1"}}}); r.Err != nil {
			t.Fatal(r.Err)
		}
		checkIncremental(t, f, fmt.Sprintf("tenancy change %d", i))
	}
	ten(0, map[string][]byte{"a": []byte("1"), "b": []byte("2")})
	ten(1, map[string][]byte{"a": []byte("3")}, "b", "missing")
	ten(2, map[string][]byte{"b": []byte("4")}, "b") // removed, then written
	// One-time keys: the first 1000 go stale, the sweep at the 1024th
	// add forgets them.
	at := time.Unix(1700000000, 0).UnixNano()
	for k := range 1100 {
		when := at
		if k >= 1000 {
			when = at + int64(time.Hour)
		}
		keys := []string{fmt.Sprintf("acme\x00n%d", k)}
		if k == 5 {
			keys = append(keys, keys[0]) // one key twice in a request
		}
		if r := apply(&Command{Op: OpMeter, Accel: []AccelUse{{Month: "2026-12", NS: 1, Calls: 1}}, Nonce: &Nonce{Keys: keys, At: when, Until: when + int64(time.Minute)}}); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if len(f.nonces.seen) >= 1000 {
		t.Fatalf("%d keys remembered: the sweep did not run", len(f.nonces.seen))
	}
	checkIncremental(t, f, "the sweep")
}
