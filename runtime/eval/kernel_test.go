// This file tests kernels on the CPU against the same models written in
// plain Go float32 arithmetic (each product converted explicitly, so that
// Go cannot fuse a multiply-add).

package eval

import (
	"math"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
)

func kernelID(t testing.TB, p *ir.Program, name string) int {
	t.Helper()
	for i, k := range p.Kernels {
		if k.Name == name {
			return i
		}
	}
	t.Fatalf("no kernel %s", name)
	return -1
}

func f32s(xs ...float32) Value {
	out := make([]Value, len(xs))
	for i, x := range xs {
		out[i] = F32(x)
	}
	return List(out)
}

func bools(xs ...bool) Value {
	out := make([]Value, len(xs))
	for i, x := range xs {
		out[i] = Bool(x)
	}
	return List(out)
}

func exp32(x float32) float32 { return float32(math.Exp(float64(x))) }

// etlScore is examples/etl.knhk's score, element i.
func etlScore(amount, age, week []float32, i int) float32 {
	var mean float32
	for k := 0; k < 7; k++ {
		mean = mean + week[k]/7.0
	}
	z := float32(float32(0.004)*amount[i]) - float32(float32(0.2)*age[i])
	if amount[i] > float32(3.0*mean) {
		z = z + 1.5
	}
	return 1.0 / (1.0 + exp32(-z))
}

// fraudRisk is examples/fraud.knhk's risk, element i.
func fraudRisk(amount, velocity []float32, foreign []bool, w []float32, i int) float32 {
	z := w[0] + float32(float32(w[1]*amount[i])/1000.0) + float32(w[2]*velocity[i])
	if foreign[i] {
		z = z + w[3]
	}
	return 1.0 / (1.0 + exp32(-z))
}

func checkF32s(t *testing.T, name string, got Value, want []float32) {
	t.Helper()
	if got.Kind() != ir.KindList || got.Len() != len(want) {
		t.Fatalf("%s = %v, want %d elements", name, got, len(want))
	}
	for i, w := range want {
		e := got.Index(i)
		if e.Kind() != ir.KindF32 || e.AsFloat() != float64(w) {
			t.Errorf("%s[%d] = %v, want %v", name, i, e, w)
		}
	}
}

func TestKernelETLScore(t *testing.T) {
	p := lowerFile(t, etlFile)
	amount := []float32{10, 250, 999.5, 0, 40}
	age := []float32{1, 30, 2, 400, 0.5}
	week := []float32{20, 25, 30, 10, 5, 60, 15}
	got, err := RunKernel(p, kernelID(t, p, "score"), []Value{f32s(amount...), f32s(age...), f32s(week...)})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, len(amount))
	for i := range want {
		want[i] = etlScore(amount, age, week, i)
	}
	checkF32s(t, "score", got, want)
	// The if must have taken both paths for this test to mean anything.
	var mean float32
	for _, w := range week {
		mean += w / 7
	}
	if !(amount[2] > 3*mean && amount[0] < 3*mean) {
		t.Fatal("inputs do not exercise both arms")
	}
}

func TestKernelFraudRisk(t *testing.T) {
	p := lowerFile(t, fraudFile)
	amount := []float32{12.5, 1000, 25000, 3}
	velocity := []float32{1, 7, 0, 30}
	foreign := []bool{false, true, true, false}
	w := []float32{-3, 0.8, 0.15, 1.2}
	got, err := RunKernel(p, kernelID(t, p, "risk"), []Value{f32s(amount...), f32s(velocity...), bools(foreign...), f32s(w...)})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, len(amount))
	for i := range want {
		want[i] = fraudRisk(amount, velocity, foreign, w, i)
	}
	checkF32s(t, "risk", got, want)
}

func TestKernelErrors(t *testing.T) {
	p := lowerFile(t, fraudFile)
	k := kernelID(t, p, "risk")
	// w has 2 weights, but the body reads w[2]: the error names the
	// index instruction.
	_, err := RunKernel(p, k, []Value{f32s(1), f32s(1), bools(true), f32s(1, 2)})
	e := evalErr(t, err)
	if e.Msg != "index 2 out of range [0:2]" || !e.Loc.Known() {
		t.Errorf("error = %v", e)
	}
	if _, err := RunKernel(p, k, []Value{f32s(1)}); err == nil {
		t.Error("wrong argument count accepted")
	}
	if _, err := RunKernel(p, 99, nil); err == nil {
		t.Error("missing kernel accepted")
	}
	// The step budget applies per element, so a large array is fine.
	m := New(p)
	m.MaxSteps = 200
	n := 1000
	big := make([]float32, n)
	fs := make([]bool, n)
	got, err := m.RunKernel(k, []Value{f32s(big...), f32s(big...), bools(fs...), f32s(0, 0, 0, 0)})
	if err != nil || got.Len() != n || got.Index(n-1).AsFloat() != 0.5 {
		t.Errorf("big kernel: %v elements, %v", got.Len(), err)
	}
	// An empty first array gives an empty result without running the body.
	got, err = RunKernel(p, k, []Value{f32s(), f32s(), bools(), f32s()})
	if err != nil || got.Len() != 0 {
		t.Errorf("empty = %v, %v", got, err)
	}
}

// TestKernelCallFromNet runs a net function that calls a kernel on the
// result of a fn with a lambda (compiler/testdata/kernel.txtar), where
// both kernel arguments are prices(xs).
func TestKernelCallFromNet(t *testing.T) {
	p := lowerFile(t, kernelFile)
	id := funcID(t, p, "Score.let.s")
	xs := []float64{10, 2000, 3.25, 40, 0.5, 7, 1e6, 12}
	in := make([]Value, len(xs))
	f := make([]float32, len(xs))
	for i, x := range xs {
		in[i], f[i] = Float(x), float32(x)
	}
	got, err := Call(p, id, newVars(List(in)))
	if err != nil {
		t.Fatal(err)
	}
	var mean float32
	for k := 0; k < 7; k++ {
		mean = mean + f[k]/7.0
	}
	want := make([]float32, len(xs))
	for i := range want {
		z := float32(float32(0.004) * f[i])
		if f[i] > float32(3.0*mean) {
			z = z + 1.5
		}
		want[i] = 1.0 / (1.0 + exp32(-z))
	}
	checkF32s(t, "score", got, want)
	// With three prices the loop reads week[3]: out of range.
	_, err = Call(p, id, newVars(List(in[:3])))
	if e := evalErr(t, err); e.Msg != "index 3 out of range [0:3]" {
		t.Errorf("error = %v", e)
	}
}
