package accel_test

import (
	"context"
	"fmt"

	"github.com/knhk/knhk/accel"
	"github.com/knhk/knhk/codegen/spirv"
	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/lang/check"
)

// Compile a kernel from source the way knhk does, and run it on the
// preferred Vulkan device.
func ExampleDevice_Run() {
	src := []byte("package demo\nkernel saxpy(x: [f32], y: [f32], a: f32) -> [f32] { out[i] = a * x[i] + y[i] }\n")
	pkg, info, diags := check.CheckSource("demo.knhk", src, nil)
	if diags.HasErrors() {
		fmt.Println(diags.Format())
		return
	}
	prog, bd := compiler.Build(pkg, info)
	if bd.HasErrors() {
		fmt.Println(bd.Format())
		return
	}
	sh, sd := spirv.Kernel(prog, 0)
	if len(sd) > 0 {
		fmt.Println(sd[0])
		return
	}
	v, err := accel.Open()
	if err != nil {
		fmt.Println(err) // no loader: run the kernel on the CPU instead
		return
	}
	defer v.Close()
	dev, err := v.OpenDevice(v.Preferred())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dev.Close()
	res, err := dev.Run(context.Background(), sh, [][]any{{[]float32{1, 2, 3}, []float32{10, 20, 30}, float32(2)}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Outputs[0], res.Failed)
}

// Score a batch and count the scores over a cutoff without reading the
// scores back.
func ExampleDevice_RunReduce() {
	src := []byte("package demo\nkernel over(s: [f32], cutoff: f32) -> [bool] { out[i] = s[i] > cutoff }\n")
	pkg, info, _ := check.CheckSource("demo.knhk", src, nil)
	prog, _ := compiler.Build(pkg, info)
	sh, _ := spirv.Kernel(prog, 0)
	v, err := accel.Open()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	dev, err := v.OpenDevice(v.Preferred())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dev.Close()
	res, err := dev.RunReduce(context.Background(), sh, [][]any{{[]float32{0.1, 0.9, 0.7}, float32(0.5)}}, spirv.ReduceCount)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Reduced)
}
