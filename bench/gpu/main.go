// Command gpu measures kernels on a Vulkan device against the device's
// own copy rate and against Go on the CPU: for each size, the
// device-to-device copy rate, the kernel-only rate of a map (saxpy, 12
// bytes per element) from device timestamps and its share of the copy
// rate, the end-to-end time of a kernel call including transfers against
// the same map split over the CPU's cores, and the same for a float sum.
// docs/gpu.md says how to run it on an NVIDIA machine.
//
//	go run ./bench/gpu [-sizes 1,8,16,64] [-runs 5]
//
// KNHK_DEVICE (vulkan:N) picks the device and KNHK_VULKAN_LOADER the
// loader library, as for knhk itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/knhk/knhk/accel"
	"github.com/knhk/knhk/codegen/spirv"
	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/vec"
)

const source = `package gpubench

kernel saxpy(x: [f32], y: [f32], a: f32) -> [f32] { out[i] = a * x[i] + y[i] }
`

func main() {
	sizes := flag.String("sizes", "1,8,16,64", "element counts in Mi (2^20), comma-separated")
	runs := flag.Int("runs", 5, "runs per measurement; the median is printed")
	flag.Parse()
	if err := run(*sizes, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "gpu:", err)
		os.Exit(1)
	}
}

func run(sizes string, runs int) error {
	c, err := accel.ParseDevice(os.Getenv("KNHK_DEVICE"))
	if err != nil {
		return err
	}
	c.Explicit = true
	v, d, err := accel.OpenChoice(c)
	if err != nil {
		return err
	}
	defer v.Close()
	defer d.Close()
	sh, err := saxpy()
	if err != nil {
		return err
	}
	fmt.Printf("device: %s (%s, Vulkan %s)\n", d.Info.Name, d.Info.Type, d.Info.API)
	fmt.Printf("%8s %12s %14s %8s %12s %12s %10s %12s %12s\n", "elements", "copy GB/s", "kernel GB/s", "%copy", "e2e ms", "go-par ms", "e2e/go", "sum e2e ms", "sum go ms")
	ctx := context.Background()
	for _, s := range strings.Split(sizes, ",") {
		mi, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || mi <= 0 {
			return fmt.Errorf("-sizes: %q is not a positive number", s)
		}
		n := mi << 20
		x, y, out := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(i%1000), float32(i%7)
		}
		bytes := 12 * float64(n)
		var copies, kernels, e2e, cpu, sumDev, sumCPU []time.Duration
		for range runs {
			ct, err := d.CopyTime(ctx, 4*n)
			if err != nil {
				return err
			}
			copies = append(copies, ct)
			start := time.Now()
			res, err := d.Run(ctx, sh, [][]any{{x, y, float32(1.5)}})
			if err != nil {
				return err
			}
			e2e = append(e2e, time.Since(start))
			kernels = append(kernels, res.Kernel)
			start = time.Now()
			vec.Parallel(n, vec.ParallelMin, func(lo, hi int) (int, error) {
				for i := lo; i < hi; i++ {
					out[i] = float32(1.5*x[i]) + y[i]
				}
				return -1, nil
			})
			cpu = append(cpu, time.Since(start))
			start = time.Now()
			if _, err := d.Reduce(ctx, spirv.ReduceSum, x); err != nil {
				return err
			}
			sumDev = append(sumDev, time.Since(start))
			start = time.Now()
			vec.SumF32Parallel(x)
			sumCPU = append(sumCPU, time.Since(start))
		}
		copyRate := 2 * 4 * float64(n) / median(copies).Seconds() / 1e9 // a copy reads and writes
		kernelRate := bytes / median(kernels).Seconds() / 1e9
		fmt.Printf("%7dM %12.1f %14.1f %7.0f%% %12.2f %12.2f %10.2f %12.2f %12.2f\n", mi, copyRate, kernelRate, 100*kernelRate/copyRate,
			ms(median(e2e)), ms(median(cpu)), median(e2e).Seconds()/median(cpu).Seconds(), ms(median(sumDev)), ms(median(sumCPU)))
	}
	return nil
}

func saxpy() (*spirv.Shader, error) {
	pkg, info, diags := check.CheckSource("saxpy.knhk", []byte(source), nil)
	if diags.HasErrors() {
		return nil, diags.Err()
	}
	p, bd := compiler.Build(pkg, info)
	if bd.HasErrors() {
		return nil, bd.Err()
	}
	sh, sd := spirv.Kernel(p, 0)
	if len(sd) > 0 {
		return nil, sd[0]
	}
	return sh, nil
}

func median(ts []time.Duration) time.Duration {
	s := slices.Clone(ts)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return d.Seconds() * 1000 }
