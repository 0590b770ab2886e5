//go:build cgo

package accel_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/knhk/knhk/accel"
	"github.com/knhk/knhk/server"
)

// queried has a query whose value is a kernel call over the case's input.
const queried = `package queried

kernel scale(a: [f32]) -> [f32] {
  out[i] = a[i] * 2.0 + f32(i % 7)
}

fn f32s(xs: [float]) -> [f32] = map(xs, x => f32(x))

workflow Hold(xs: [float]) -> int {
  query scaled -> [f32] = scale(f32s(xs))
  select {
    on signal Go -> { return 1 }
  }
}
`

// TestServeQueryUsesDevice asks a knhk serve Service a case's query
// whose value is a kernel call (runtime/caseio's Query): from
// KNHK_DEVICE_MIN elements on it runs on the device, below on the CPU,
// and the answer is the interpreter's, element for element.
func TestServeQueryUsesDevice(t *testing.T) {
	t.Setenv("KNHK_CACHE_DIR", t.TempDir())
	t.Setenv("KNHK_DEVICE", "vulkan")
	t.Setenv("KNHK_DEVICE_MIN", "64")
	requireVulkan(t)
	svc, err := server.Open(t.TempDir(), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(context.Background())
	d, err := svc.Deploy("queried.knhk", []byte(queried), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		n      int
		device int // dispatches the query adds
	}{{5000, 1}, {63, 0}, {64, 1}} {
		xs := make([]float64, c.n)
		for i := range xs {
			xs[i] = float64(r.IntN(4000)-2000) / 8
		}
		in, _ := json.Marshal(xs)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		id, _, err := svc.Start(ctx, server.StartRequest{Workflow: "Hold", Input: in})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		if _, _, err := svc.Wait(ctx, id, true); err != nil {
			cancel()
			t.Fatal(err)
		}
		before, _ := accel.Dispatches(accel.Shared())
		b, err := svc.Query(ctx, id, "scaled")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		after, _ := accel.Dispatches(accel.Shared())
		if after-before != c.device {
			t.Errorf("query n=%d: %d device dispatches, want %d", c.n, after-before, c.device)
		}
		var got []float64
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("query n=%d: %.80s: %v", c.n, b, err)
		}
		want := cpuKernel(t, d.Program.Prog(), "scale", xs)
		if len(got) != len(want) {
			t.Fatalf("query n=%d: %d elements, want %d", c.n, len(got), len(want))
		}
		for i := range got {
			if float32(got[i]) != float32(want[i]) {
				t.Fatalf("query n=%d: element %d is %v, the interpreter's %v", c.n, i, got[i], want[i])
			}
		}
	}
}
