package hls

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPragmasUnderSynthesis preprocesses the fraud and etl kernels with
// __SYNTHESIS__ defined (and empty ap_int.h and hls_stream.h in place of
// the vendor's) and checks that the pragmas a synthesis tool reads come
// out: the interfaces, the pipelined element loop, its trip count, the
// unrolled inner loop and the partitioned weights.
func TestPragmasUnderSynthesis(t *testing.T) {
	gxx(t)
	for _, c := range []struct {
		src, kernel string
		want        []string
	}{
		{"examples/fraud.knhk", "risk", []string{
			"#pragma HLS INTERFACE m_axi port=amount offset=slave bundle=gmem0",
			"#pragma HLS INTERFACE s_axilite port=return bundle=control",
			"#pragma HLS PIPELINE II=1",
			"#pragma HLS LOOP_TRIPCOUNT min=1 max=1048576",
			"#pragma HLS ARRAY_PARTITION variable=w_buf complete dim=1",
			"#pragma HLS INLINE",
		}},
		{"examples/etl.knhk", "score", []string{
			"#pragma HLS UNROLL",
			"#pragma HLS ARRAY_PARTITION variable=week_buf complete dim=1",
		}},
	} {
		p, ok := build(t, c.src)
		if !ok {
			t.Fatalf("%s does not build", c.src)
		}
		ks, ds := Kernels(p, Options{})
		if len(ds) > 0 {
			t.Fatal(ds)
		}
		var kn *Kernel
		for _, k := range ks {
			if k.Name == c.kernel {
				kn = k
			}
		}
		if kn == nil {
			t.Fatalf("%s: no kernel %s", c.src, c.kernel)
		}
		dir := t.TempDir()
		writeFiles(t, dir, kn.Files)
		writeFiles(t, dir, map[string][]byte{HeaderName: []byte(Header), "ap_int.h": nil, "hls_stream.h": nil})
		out, err := exec.Command(gxx(t), "-std=c++17", "-E", "-P", "-D__SYNTHESIS__", "-I", dir, filepath.Join(dir, kn.Name+".cpp")).CombinedOutput()
		if err != nil {
			t.Fatalf("g++ -E: %v\n%s", err, out)
		}
		text := string(out)
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: no %q under synthesis", c.src, w)
			}
		}
		if strings.Contains(text, "struct ap_uint") {
			t.Errorf("%s: the stand-in ap_uint is compiled under synthesis", c.src)
		}
	}
}
