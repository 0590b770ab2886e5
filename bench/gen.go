// This file implements the program generators for the front-end benchmark.

package bench

import (
	"bytes"
	"fmt"
)

// KNHK returns a deterministic KNHK program of at least lines lines (and at
// most one unit, about 90 lines, more). It parses without diagnostics and
// is meant to check without errors.
func KNHK(lines int) []byte {
	var b bytes.Buffer
	b.Grow(lines * 32)
	b.WriteString("// Package orders is a generated benchmark program.\npackage orders\n\n")
	for k, n := 0, countLines(b.Bytes()); n < lines; k++ {
		at := b.Len()
		knhkUnit(&b, k)
		n += countLines(b.Bytes()[at:])
	}
	return b.Bytes()
}

// Go returns a deterministic Go program of at least lines lines that is
// equivalent to [KNHK]'s. It parses and type-checks without errors.
func Go(lines int) []byte {
	var b bytes.Buffer
	b.Grow(lines * 32)
	b.WriteString(goPrelude)
	for k, n := 0, countLines(b.Bytes()); n < lines; k++ {
		at := b.Len()
		goUnit(&b, k)
		n += countLines(b.Bytes()[at:])
	}
	return b.Bytes()
}

// countLines counts newline-terminated lines, plus a final unterminated one.
func countLines(b []byte) int {
	n := bytes.Count(b, []byte{'\n'})
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// Lines reports how many lines src has, as the benchmark counts them.
func Lines(src []byte) int { return countLines(src) }

// regions, methods and limits vary the units so that no two are identical.
var (
	regions = []string{"eu", "us", "apac", "latam"}
	methods = []string{"POST", "PUT", "PATCH"}
)

func knhkUnit(b *bytes.Buffer, k int) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	region := regions[k%len(regions)]
	method := methods[k%len(methods)]
	limit := 2 + k%7

	w("// Item%d is one line of an order.\n", k)
	w("type Item%d = { sku: string, qty: int, price: float }\n\n", k)
	w("// Order%d is a customer order.\n", k)
	w("type Order%d = {\n", k)
	w("  id: string,\n")
	w("  region: string,\n")
	w("  customer: string,\n")
	w("  priority: int,\n")
	w("  items: [Item%d],\n", k)
	w("  notes: [string],\n")
	w("  tags: [string: string],\n")
	w("  coupon: string?,\n")
	w("  deadline: duration,\n")
	w("}\n\n")
	w("type Status%d = enum { pending, approved, rejected, shipped }\n\n", k)

	w("fn total%d(o: Order%d) -> float = sum(o.items, i => i.price * float(i.qty))\n\n", k, k)
	w("fn heavy%d(o: Order%d) -> bool = total%d(o) > %d.0 && len(o.items) > %d\n\n", k, k, k, 1000+k%500, 1+k%4)
	w("fn label%d(o: Order%d) -> string = o.region + \"/\" + o.id + \"/\" + (o.coupon ?? \"none\")\n\n", k, k)

	w("task reserve%d(items: [Item%d]) -> string exec \"./bin/reserve\" \"--fast\" retry 3 timeout 5s\n", k, k)
	w("task charge%d(amount: float) -> string http %s \"http://127.0.0.1:8080/charge\" retry 2 backoff 200ms timeout 10s\n", k, method)
	w("task refund%d(payment: string) exec \"./bin/refund\"\n", k)
	w("task approve%d(o: Order%d) -> Status%d http POST \"http://127.0.0.1:8080/approve\" timeout 30s\n", k, k, k)
	w("task pack%d(item: Item%d) exec \"./bin/pack\" retry %d backoff 1s\n", k, k, 1+k%5)
	w("task notify%d(msg: string) exec \"./bin/notify\"\n\n", k)

	w("// Fulfil%d reserves, charges, approves and ships an order.\n", k)
	w("workflow Fulfil%d(o: Order%d) -> string {\n", k, k)
	w("  guard len(o.items) > 0 else fail \"empty order\"\n")
	w("  guard o.region == \"%s\" || o.priority > %d else fail \"wrong region\"\n", region, k%10)
	w("  let amount = total%d(o)\n", k)
	w("  let tag = label%d(o)\n", k)
	w("  var status = Status%d.pending\n", k)
	w("  var shipped = 0\n")
	w("  parallel {\n")
	w("    reserve%d(o.items) retry 3 backoff 200ms timeout 5s\n", k)
	w("    let p = charge%d(amount) undo refund%d(p)\n", k, k)
	w("  } join all\n")
	w("  if heavy%d(o) {\n", k)
	w("    let verdict = approve%d(o) timeout 1h\n", k)
	w("    status = verdict\n")
	w("  } else if o.priority > %d {\n", 5+k%3)
	w("    status = Status%d.approved\n", k)
	w("  } else {\n")
	w("    notify%d(\"auto approved \" + tag)\n", k)
	w("    status = Status%d.approved\n", k)
	w("  }\n")
	w("  choose {\n")
	w("    when status == Status%d.rejected -> fail \"rejected\"\n", k)
	w("    when amount > %d.0 -> notify%d(\"big order \" + o.id)\n", 5000+k, k)
	w("    else -> notify%d(\"ok \" + o.id)\n", k)
	w("  }\n")
	w("  for item in o.items parallel limit %d {\n", limit)
	w("    pack%d(item)\n", k)
	w("  } join all\n")
	w("  for note in o.notes {\n")
	w("    if len(note) > 0 && !contains(note, \"#skip\") {\n")
	w("      notify%d(note)\n", k)
	w("      shipped = shipped + 1\n")
	w("    }\n")
	w("  }\n")
	w("  select {\n")
	w("    on signal Cancel%d(reason: string) -> cancel case\n", k)
	w("    on timer 48h -> notify%d(\"timeout \" + o.id)\n", k)
	w("    on done notify%d(\"shipped \" + o.id) -> {}\n", k)
	w("  }\n")
	w("  notify%d(\"done \" + string(shipped) + \" of \" + string(len(o.items)))\n", k)
	w("  return o.id\n")
	w("}\n\n")
}

// goPrelude declares the helpers every generated Go unit calls: running a
// subprocess, calling an HTTP endpoint and retrying with backoff.
const goPrelude = `// Package orders is a generated benchmark program.
package orders

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// runExec stands for running a subprocess that speaks JSON.
func runExec(argv ...string) (string, error) {
	if len(argv) == 0 {
		return "", errors.New("no command")
	}
	return strings.Join(argv, " "), nil
}

// callHTTP stands for calling an HTTP endpoint.
func callHTTP(method, url string, body any) (string, error) {
	if method == "" || url == "" {
		return "", errors.New("bad request")
	}
	return fmt.Sprint(method, " ", url, " ", body), nil
}

// withRetry calls f up to n+1 times, sleeping backoff between tries.
func withRetry(n int, backoff, timeout time.Duration, f func() (string, error)) (string, error) {
	var err error
	for try := 0; try <= n; try++ {
		start := time.Now()
		var out string
		out, err = f()
		if err == nil && time.Since(start) <= timeout {
			return out, nil
		}
		time.Sleep(backoff)
	}
	return "", err
}

`

func goUnit(b *bytes.Buffer, k int) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	region := regions[k%len(regions)]
	method := methods[k%len(methods)]
	limit := 2 + k%7

	w("// Item%d is one line of an order.\n", k)
	w("type Item%d struct {\n\tSku   string\n\tQty   int\n\tPrice float64\n}\n\n", k)
	w("// Order%d is a customer order.\n", k)
	w("type Order%d struct {\n", k)
	w("\tID       string\n")
	w("\tRegion   string\n")
	w("\tCustomer string\n")
	w("\tPriority int\n")
	w("\tItems    []Item%d\n", k)
	w("\tNotes    []string\n")
	w("\tTags     map[string]string\n")
	w("\tCoupon   *string\n")
	w("\tDeadline time.Duration\n")
	w("}\n\n")
	w("type Status%d int\n\n", k)
	w("const (\n\tStatus%dPending Status%d = iota\n\tStatus%dApproved\n\tStatus%dRejected\n\tStatus%dShipped\n)\n\n", k, k, k, k, k)

	w("func total%d(o Order%d) float64 {\n", k, k)
	w("\tsum := 0.0\n")
	w("\tfor _, i := range o.Items {\n")
	w("\t\tsum += i.Price * float64(i.Qty)\n")
	w("\t}\n")
	w("\treturn sum\n")
	w("}\n\n")
	w("func heavy%d(o Order%d) bool { return total%d(o) > %d.0 && len(o.Items) > %d }\n\n", k, k, k, 1000+k%500, 1+k%4)
	w("func label%d(o Order%d) string {\n", k, k)
	w("\tcoupon := \"none\"\n")
	w("\tif o.Coupon != nil {\n")
	w("\t\tcoupon = *o.Coupon\n")
	w("\t}\n")
	w("\treturn o.Region + \"/\" + o.ID + \"/\" + coupon\n")
	w("}\n\n")

	w("func reserve%d(items []Item%d) (string, error) {\n", k, k)
	w("\treturn withRetry(3, 0, 5*time.Second, func() (string, error) { return runExec(\"./bin/reserve\", \"--fast\", fmt.Sprint(items)) })\n")
	w("}\n\n")
	w("func charge%d(amount float64) (string, error) {\n", k)
	w("\treturn withRetry(2, 200*time.Millisecond, 10*time.Second, func() (string, error) { return callHTTP(%q, \"http://127.0.0.1:8080/charge\", amount) })\n", method)
	w("}\n\n")
	w("func refund%d(payment string) error {\n\t_, err := runExec(\"./bin/refund\", payment)\n\treturn err\n}\n\n", k)
	w("func approve%d(o Order%d) (Status%d, error) {\n", k, k, k)
	w("\tif _, err := callHTTP(\"POST\", \"http://127.0.0.1:8080/approve\", o); err != nil {\n")
	w("\t\treturn Status%dRejected, err\n", k)
	w("\t}\n")
	w("\treturn Status%dApproved, nil\n", k)
	w("}\n\n")
	w("func pack%d(item Item%d) error {\n", k, k)
	w("\t_, err := withRetry(%d, time.Second, 0, func() (string, error) { return runExec(\"./bin/pack\", item.Sku) })\n", 1+k%5)
	w("\treturn err\n")
	w("}\n\n")
	w("func notify%d(msg string) error {\n\t_, err := runExec(\"./bin/notify\", msg)\n\treturn err\n}\n\n", k)

	w("// Fulfil%d reserves, charges, approves and ships an order.\n", k)
	w("func Fulfil%d(o Order%d, cancel <-chan string) (string, error) {\n", k, k)
	w("\tif !(len(o.Items) > 0) {\n\t\treturn \"\", errors.New(\"empty order\")\n\t}\n")
	w("\tif !(o.Region == %q || o.Priority > %d) {\n\t\treturn \"\", errors.New(\"wrong region\")\n\t}\n", region, k%10)
	w("\tamount := total%d(o)\n", k)
	w("\ttag := label%d(o)\n", k)
	w("\tstatus := Status%dPending\n", k)
	w("\tshipped := 0\n")
	w("\tvar wg sync.WaitGroup\n")
	w("\tvar errR, errP error\n")
	w("\tvar p string\n")
	w("\twg.Add(2)\n")
	w("\tgo func() {\n")
	w("\t\tdefer wg.Done()\n")
	w("\t\t_, errR = reserve%d(o.Items)\n", k)
	w("\t}()\n")
	w("\tgo func() {\n")
	w("\t\tdefer wg.Done()\n")
	w("\t\tp, errP = charge%d(amount)\n", k)
	w("\t}()\n")
	w("\twg.Wait()\n")
	w("\tif errR != nil || errP != nil {\n")
	w("\t\tif errP == nil {\n")
	w("\t\t\trefund%d(p)\n", k)
	w("\t\t}\n")
	w("\t\treturn \"\", errors.Join(errR, errP)\n")
	w("\t}\n")
	w("\tif heavy%d(o) {\n", k)
	w("\t\tverdict, err := approve%d(o)\n", k)
	w("\t\tif err != nil {\n\t\t\treturn \"\", err\n\t\t}\n")
	w("\t\tstatus = verdict\n")
	w("\t} else if o.Priority > %d {\n", 5+k%3)
	w("\t\tstatus = Status%dApproved\n", k)
	w("\t} else {\n")
	w("\t\tnotify%d(\"auto approved \" + tag)\n", k)
	w("\t\tstatus = Status%dApproved\n", k)
	w("\t}\n")
	w("\tswitch {\n")
	w("\tcase status == Status%dRejected:\n", k)
	w("\t\treturn \"\", errors.New(\"rejected\")\n")
	w("\tcase amount > %d.0:\n", 5000+k)
	w("\t\tnotify%d(\"big order \" + o.ID)\n", k)
	w("\tdefault:\n")
	w("\t\tnotify%d(\"ok \" + o.ID)\n", k)
	w("\t}\n")
	w("\tsem := make(chan struct{}, %d)\n", limit)
	w("\tfor _, item := range o.Items {\n")
	w("\t\twg.Add(1)\n")
	w("\t\tsem <- struct{}{}\n")
	w("\t\tgo func(item Item%d) {\n", k)
	w("\t\t\tdefer wg.Done()\n")
	w("\t\t\tdefer func() { <-sem }()\n")
	w("\t\t\tpack%d(item)\n", k)
	w("\t\t}(item)\n")
	w("\t}\n")
	w("\twg.Wait()\n")
	w("\tfor _, note := range o.Notes {\n")
	w("\t\tif len(note) > 0 && !strings.Contains(note, \"#skip\") {\n")
	w("\t\t\tnotify%d(note)\n", k)
	w("\t\t\tshipped = shipped + 1\n")
	w("\t\t}\n")
	w("\t}\n")
	w("\tdone := make(chan error, 1)\n")
	w("\tgo func() { done <- notify%d(\"shipped \" + o.ID) }()\n", k)
	w("\tselect {\n")
	w("\tcase reason := <-cancel:\n")
	w("\t\treturn \"\", fmt.Errorf(\"cancelled: %%s\", reason)\n")
	w("\tcase <-time.After(48 * time.Hour):\n")
	w("\t\tnotify%d(\"timeout \" + o.ID)\n", k)
	w("\tcase <-done:\n")
	w("\t}\n")
	w("\tnotify%d(fmt.Sprint(\"done \", shipped, \" of \", len(o.Items)))\n", k)
	w("\treturn o.ID, nil\n")
	w("}\n\n")
}
