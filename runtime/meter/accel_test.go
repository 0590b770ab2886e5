package meter

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/sign"
)

// fakeDevice takes every call and advances the clock by took, as a
// device that ran for that long; calls counts what reached it.
type fakeDevice struct {
	clock *time.Time
	took  time.Duration
	calls int
	leave bool // leave every call to the CPU
}

func (d *fakeDevice) RunKernel(*ir.Program, int, []eval.Value) (eval.Value, bool, error) {
	d.calls++
	if d.leave {
		return eval.Value{}, false, nil
	}
	*d.clock = d.clock.Add(d.took)
	return eval.List(nil), true, nil
}

func (d *fakeDevice) SumList(eval.Value, ir.Kind) (eval.Value, bool, error) {
	return d.RunKernel(nil, 0, nil)
}

// TestAcceleratorMeters: the calls the device takes are timed into the
// month they started in, the ledger survives a new meter over the same
// directory, calls the device leaves cost nothing, and a refusal of
// Allow keeps calls off the device.
func TestAcceleratorMeters(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 30, 23, 59, 59, 100_000_000, time.UTC)
	dev := &fakeDevice{clock: &now, took: 300 * time.Millisecond}
	a, err := NewAccelerator(dev, dir)
	if err != nil {
		t.Fatal(err)
	}
	a.Now = func() time.Time { return now }
	p := &ir.Program{}
	for i := 0; i < 3; i++ {
		if _, ok, err := a.RunKernel(p, 0, nil); !ok || err != nil {
			t.Fatalf("call %d: %v %v", i, ok, err)
		}
	}
	if _, ok, _ := a.SumList(eval.List(nil), ir.KindF32); !ok {
		t.Fatal("sum not taken")
	}
	// The fourth call started at midnight, in December.
	if got := a.MonthUse("2026-11"); got.Calls != 3 || got.NS != int64(900*time.Millisecond) {
		t.Errorf("November: %+v", got)
	}
	if got := a.MonthUse("2026-12"); got.Calls != 1 || got.NS != int64(300*time.Millisecond) {
		t.Errorf("December: %+v", got)
	}
	dev.leave = true
	a.RunKernel(p, 0, nil)
	if got := a.Total(); got.Calls != 4 {
		t.Errorf("a call left to the CPU was metered: %+v", got)
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	l, err := ReadLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l.Month("2026-11").Calls != 3 || l.Month("2026-12").NS != int64(300*time.Millisecond) || l.Month("2027-01").Calls != 0 {
		t.Errorf("ledger %+v", l.Months)
	}
	// A new meter continues the ledger; Allow sees the month's use and
	// its refusal keeps the call off the device.
	b, err := NewAccelerator(dev, dir)
	if err != nil {
		t.Fatal(err)
	}
	b.Now = func() time.Time { return now }
	dev.leave, dev.calls = false, 0
	var seen AccelMonth
	var refused error
	b.Allow = func(used AccelMonth) error {
		seen = used
		if used.NS >= int64(500*time.Millisecond) {
			return errors.New("spent")
		}
		return nil
	}
	b.Refused = func(err error) { refused = err }
	if _, ok, _ := b.RunKernel(p, 0, nil); !ok || seen.Calls != 1 {
		t.Fatalf("first call in December: ok %v, saw %+v", ok, seen)
	}
	if _, ok, _ := b.RunKernel(p, 0, nil); ok || dev.calls != 1 || refused == nil {
		t.Fatalf("over the limit: ok %v, device calls %d, refused %v", ok, dev.calls, refused)
	}
	// A nil inner runner: every call on the CPU.
	c, _ := NewAccelerator(nil, t.TempDir())
	if _, ok, _ := c.RunKernel(p, 0, nil); ok {
		t.Error("no device took a call")
	}
	if _, ok, _ := c.SumList(eval.List(nil), ir.KindF32); ok {
		t.Error("no device took a sum")
	}
}

func TestLedgerRefused(t *testing.T) {
	for name, body := range map[string]string{
		"not json":    "{",
		"version":     `{"version":2,"months":{}}`,
		"bad month":   `{"version":1,"months":{"2026-13":{"ns":1,"calls":1}}}`,
		"negative":    `{"version":1,"months":{"2026-12":{"ns":-1,"calls":1}}}`,
		"null months": `{"version":1,"months":{"2026-12":null}}`,
	} {
		dir := t.TempDir()
		os.MkdirAll(dir+"/meter", 0o755)
		os.WriteFile(LedgerPath(dir), []byte(body), 0o644)
		if _, err := ReadLedger(dir); err == nil || !strings.Contains(err.Error(), "accelerator.json") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestReportAccelerator: a report's accelerator fields are signed, and
// reconcile only with the same ledger counts.
func TestReportAccelerator(t *testing.T) {
	k, err := sign.Generate(sign.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	u := Usage{Version: Version, Customer: "acme", Tenant: "acme", Month: "2026-12", Digest: strings.Repeat("0", 64), AcceleratorNS: 1500, AcceleratorCalls: 2}
	b, err := Sign(k, u)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(sign.NewTrustSet(k.Public()), sign.Policy{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Reconcile(u); err != nil {
		t.Errorf("same counts: %v", err)
	}
	other := u
	other.AcceleratorNS = 1499
	if err := r.Reconcile(other); err == nil || !strings.Contains(err.Error(), "accelerator_ns: report 1500, ledger 1499") {
		t.Errorf("other counts: %v", err)
	}
	u.AcceleratorCalls = -1
	if _, err := Sign(k, u); err == nil {
		t.Error("signed a negative count")
	}
}
