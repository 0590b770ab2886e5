package ir

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// golden compares got with testdata/name, rewriting it when KNHK_UPDATE is
// set.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("KNHK_UPDATE") != "" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with KNHK_UPDATE=1 to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

func TestSampleVerifies(t *testing.T) {
	if err := sampleProgram().Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestPrintGolden(t *testing.T) {
	golden(t, "sample.golden", sampleProgram().String())
}

func TestRoundTrip(t *testing.T) {
	p := sampleProgram()
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := q.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Fatal("encode(decode(b)) != b")
	}
	if p.String() != q.String() {
		t.Fatalf("printer output changed by a round trip:\n%s\n---\n%s", p.String(), q.String())
	}
	h1, _ := p.Hash()
	h2, _ := q.Hash()
	if h1 != h2 || len(h1) != 64 {
		t.Fatalf("hashes %q and %q", h1, h2)
	}
	// A change anywhere changes the hash.
	q.Nets[0].Transitions[0].Name = "guard2"
	if h3, _ := q.Hash(); h3 == h1 {
		t.Fatal("hash did not change with the program")
	}
}

func TestEncodingIsDeterministic(t *testing.T) {
	a, _ := sampleProgram().Encode()
	b, _ := sampleProgram().Encode()
	if !bytes.Equal(a, b) {
		t.Fatal("two encodings of the same program differ")
	}
	if !bytes.HasPrefix(a, []byte(Magic)) {
		t.Fatal("missing magic")
	}
}

func TestDecodeRejectsTruncation(t *testing.T) {
	b, err := sampleProgram().Encode()
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b); n++ {
		if _, err := Decode(b[:n]); err == nil || !errors.Is(err, ErrMalformed) {
			t.Fatalf("prefix of %d bytes: err = %v", n, err)
		}
	}
	if _, err := Decode(append(b[:len(b):len(b)], 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := sampleProgram().Encode()
	v2 := append([]byte(Magic), 2)
	overlong := append([]byte(Magic), 0x81, 0x00)
	huge := append([]byte(Magic), 1, 0xff, 0xff, 0xff, 0xff, 0x0f) // package name of 4 GiB
	for name, in := range map[string][]byte{
		"empty":    nil,
		"magic":    []byte("KNHKIX\x01"),
		"version":  v2,
		"overlong": overlong,
		"huge":     huge,
	} {
		if _, err := Decode(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// Flipping any single byte must never panic, and whatever decodes
	// must verify and re-encode to the same bytes.
	for i := range good {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			in := bytes.Clone(good)
			in[i] ^= x
			checkDecode(t, in)
		}
	}
}

// checkDecode checks the decoder's invariants on arbitrary input.
func checkDecode(t *testing.T, in []byte) {
	t.Helper()
	p, err := Decode(in)
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("error does not wrap ErrMalformed: %v", err)
		}
		return
	}
	out, err := p.Encode()
	if err != nil {
		t.Fatalf("decoded program does not encode: %v", err)
	}
	if !bytes.Equal(in, out) {
		t.Fatalf("decode accepted a non-canonical encoding")
	}
	_ = p.String()
}

func TestVerifyFindsProblems(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(p *Program)
		want   string
	}{
		{"arc to missing place", func(p *Program) { p.Nets[0].Arcs[0].Place = 99 }, "arc 0: connects p99 and t0, which do not both exist"},
		{"transition without input", func(p *Program) {
			nb := &NetBuilder{N: p.Nets[0], p: p}
			nb.Trans("orphan", TNop)
		}, "transition t10 orphan: no input arc"},
		{"guard not bool", func(p *Program) { p.Nets[0].Arcs[1].Guard = 3 }, "guard: f3 returns duration, want bool"},
		{"unterminated block", func(p *Program) { p.Funcs[0].Blocks[0].Term = Term{} }, "func f0 total.lambda: b0: block not terminated"},
		{"register type", func(p *Program) { p.Funcs[0].Regs[1] = String }, "func f0 total.lambda: b0.0 field: field price is float, want string"},
		{"missing end", func(p *Program) { p.Nets[0].End = 40 }, "start p0 and end p40 must be distinct places"},
		{"region member", func(p *Program) { p.Nets[0].Regions[0].Places[0] = 77 }, "region r0 saga: place p77 does not exist"},
		{"span outside file", func(p *Program) { p.Funcs[1].Loc = at(10, 5000) }, "func f1 total: location: span 10-5000 beyond the end of orders.knhk (2000 bytes)"},
		{"register assigned twice", func(p *Program) { p.Funcs[0].Blocks[0].Instrs[1].Dst = 1 }, "register r1 assigned twice"},
		{"undefined register", func(p *Program) { p.Funcs[0].Blocks[0].Term.Value = 40 }, "b0: register r40 undefined"},
		{"partial join", func(p *Program) {
			tr := p.Nets[0].Transitions[6]
			tr.Join, tr.JoinN = JoinPartial, 3
		}, "transition t6 join all: partial join of 3 out of 2 inputs"},
		{"undeclared signal", func(p *Program) { p.Nets[0].Transitions[7].Label = "Nope" }, `waits for undeclared signal "Nope"`},
		{"wrong result type", func(p *Program) { p.Nets[0].Transitions[4].Result = 1 }, "result string stored in variable of type float"},
		{"task call arity", func(p *Program) { p.Nets[0].Transitions[4].Call.Args = nil }, "call: 0 arguments for 1 parameters"},
		{"capture type", func(p *Program) {
			in := &p.Funcs[20].Blocks[0].Instrs[len(p.Funcs[20].Blocks[0].Instrs)-1]
			in.Args[1] = 2 // a string, not the float k
		}, "captured value k is string, want float"},
		{"set field type", func(p *Program) { p.Funcs[20].Blocks[0].Instrs[1].Args[1] = 1 }, "field id is float, want string"},
		{"use before definition", func(p *Program) {
			ins := p.Funcs[0].Blocks[0].Instrs
			ins[0], ins[3] = ins[3], ins[0] // r4 = r1 * r3 before r1 exists
		}, "b0: use of r1 not dominated by its definition in b0"},
		{"use across branches", func(p *Program) {
			// b2 returns r7, defined only on the b1 path.
			p.Funcs[2].Blocks[2].Term.Value = 7
		}, "b2: use of r7 not dominated by its definition in b1"},
		{"two defaults", func(p *Program) { p.Nets[0].Arcs[1].Guard, p.Nets[0].Arcs[2].Guard = NoFunc, NoFunc }, "transition t0 guard: XOR split with 2 unguarded outputs"},
		{"scoped callee", func(p *Program) { p.Funcs[1].Scope = 1 }, "func f7 Fulfil.amount: b0.1 call: f1 reads the variables of net 1"},
		{"hook signal", func(p *Program) { p.Nets[0].Hooks[0].Label = "Nope" }, `hook cancelled: undeclared signal "Nope"`},
		{"hook workflow", func(p *Program) { p.Nets[0].Hooks[1].Task, p.Nets[0].Hooks[1].Label = -1, "Nope" }, `hook charged: unknown workflow "Nope"`},
		{"hook task", func(p *Program) { p.Nets[0].Hooks[1].Task = -1 }, `hook charged: task -1 out of range`},
		{"reward parameter", func(p *Program) { p.Funcs[18].Params[0].Type = Int; p.Funcs[18].Regs[0] = Int }, "reward: f18 must take nothing or the duration"},
		{"recursive undo", func(p *Program) {
			c := p.Nets[0].Transitions[5].Call
			for i := 0; i < 10; i++ {
				c.Undo = &Call{Kind: CallTask, Target: 2, Args: c.Undo.Args, Retry: -1, Backoff: NoFunc, Timeout: NoFunc, Undo: c.Undo}
			}
		}, "undo nested too deep"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := sampleProgram()
			c.break_(p)
			err := p.Verify()
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify() = %v, want a VerifyError", err)
			}
			found := false
			for _, msg := range ve.Problems {
				if strings.Contains(msg, c.want) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no problem mentions %q; got:\n%s", c.want, strings.Join(ve.Problems, "\n"))
			}
			if _, err := p.Encode(); err == nil {
				t.Fatal("Encode accepted an invalid program")
			}
		})
	}
}

func TestRecursiveType(t *testing.T) {
	p := NewProgram("tree")
	tree := p.DeclareType()
	kids := p.ListOf(tree)
	p.SetType(tree, Type{Kind: KindRecord, Name: "Tree", Fields: []Field{{"label", String}, {"kids", kids}}})
	f := NewFunc("kids", kids, Param{"t", tree})
	f.Return(f.Field(kids, f.Param(0), 1))
	p.AddFunc(f.F)
	if err := p.Verify(); err != nil {
		t.Fatal(err)
	}
	if got := p.TypeString(kids); got != "[Tree]" {
		t.Fatalf("TypeString = %q", got)
	}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	checkDecode(t, b)
}

func TestPrintBrokenProgram(t *testing.T) {
	p := sampleProgram()
	p.Funcs = append(p.Funcs, nil)
	p.Funcs[0].Blocks = append(p.Funcs[0].Blocks, nil)
	n := p.Nets[0]
	n.Places = append(n.Places, nil)
	n.Transitions = append(n.Transitions, nil)
	n.Arcs = append(n.Arcs, &Arc{Place: 99, Trans: 99, Weight: 1, Guard: 77})
	n.Transitions[4].Call.Target = 50
	n.Transitions[3].Result = 40
	p.Tasks = append(p.Tasks, nil)
	p.Kernels[0].Body = 1000
	s := p.String()
	for _, want := range []string{"func f", "nil", "arc t99 p99", "task #50", "-> v40", "body f1000"} {
		if !strings.Contains(s, want) {
			t.Errorf("dump lacks %q", want)
		}
	}
	if p.Verify() == nil {
		t.Fatal("broken program verified")
	}
}

func TestArcsOf(t *testing.T) {
	n := sampleProgram().Nets[0]
	in, out := n.ArcsOf(6) // join all: a.done, b.done -> joined
	if len(in) != 2 || len(out) != 1 || n.Places[in[0].Place].Name != "a.done" || n.Places[out[0].Place].Name != "joined" {
		t.Fatalf("in %v out %v", in, out)
	}
}
