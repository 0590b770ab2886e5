package console

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/knhk/knhk/internal/browsertest"
)

// TestBrowser drives the console in a real headless Chromium: two cases
// are started through the API and appear in the list; the first is
// opened, its workflow drawn with the wait pending, and a signal
// delivered through the API shows up on the open page without a reload;
// the second gets its signal from the page's own form and is rejected;
// the programs page shows the source. KNHK_CONSOLE_SCREENSHOT names a PNG
// to keep a screenshot of the case page in.
func TestBrowser(t *testing.T) {
	ctx := browsertest.Start(t, 90*time.Second)
	f := newFixture(t, "")
	_, a := f.deployAndStart(t, "order-a")
	_, b := f.deployAndStart(t, "order-b")

	var status, result, history, input, query string
	err := chromedp.Do(ctx,
		chromedp.Navigate(f.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#cases tr[data-case=%q]`, a))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#cases tr[data-case=%q]`, b))),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#cases tr[data-case=%q] a.case-link`, a))),
		chromedp.WaitVisible(chromedp.CSS(`#graph svg`)),
		browsertest.WaitJS(`document.querySelector('pre[data-query="seen_count"]') !== null`),
		browsertest.Text(`#status`, &status),
		browsertest.Text(`#input`, &input),
		browsertest.Text(`pre[data-query="seen_count"]`, &query),
		browsertest.Text(`#history`, &history),
	)
	if err != nil {
		t.Fatal(err)
	}
	if status != "running" || !strings.Contains(input, `"order-a"`) || strings.TrimSpace(query) != "1" {
		t.Errorf("before the signal: status %q, input %q, query %q", status, input, query)
	}
	if !strings.Contains(history, "note") || strings.Contains(history, "set_seen") {
		t.Errorf("history is not the user-level view:\n%s", history)
	}
	var pending bool
	if err := chromedp.Do(ctx, browsertest.Eval(`[...document.querySelectorAll('#graph g.node.pending')].some(g => g.textContent.includes('wait Decide'))`, &pending)); err != nil {
		t.Fatal(err)
	}
	if !pending {
		t.Error("the signal wait is not highlighted as pending")
	}

	// Another client delivers the signal; the open page follows.
	f.call(t, "SignalCase", map[string]string{"caseId": a, "name": "Decide", "payloadJson": `{"ok": true, "by": "ann"}`}, nil)
	var endDone bool
	err = chromedp.Do(ctx,
		browsertest.WaitJS(`document.querySelector('#status').textContent === 'completed'`),
		browsertest.WaitJS(`document.querySelector('#signal-ended') !== null`),
		browsertest.WaitJS(`document.querySelector('#history').textContent.includes('Decide')`),
		browsertest.WaitJS(`document.querySelector('#graph svg g.node.done') !== null && document.querySelector('#graph g.node.pending') === null`),
		browsertest.Text(`#result`, &result),
		browsertest.Eval(`document.querySelector('#graph svg #n0_v1').getAttribute('class').includes('done') &&
			[...document.querySelectorAll('#graph g.node.done')].some(g => g.textContent.includes('wait Decide'))`, &endDone),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(result, `"noted by ann"`) || !endDone {
		t.Errorf("after the signal: result %q, end and wait done %v", result, endDone)
	}
	if p := os.Getenv("KNHK_CONSOLE_SCREENSHOT"); p != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The second case gets its signal from the page's form.
	var msg string
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.srv.URL+"/#/case/"+b),
		chromedp.WaitVisible(chromedp.CSS(`#signal-send`)),
		chromedp.SetValue(chromedp.CSS(`#signal-name`), "Decide"),
		chromedp.SendKeys(chromedp.CSS(`#signal-payload`), `{"ok": false, "by": "bob"}`),
		chromedp.Click(chromedp.CSS(`#signal-send`)),
		browsertest.WaitJS(`document.querySelector('#status').textContent === 'failed'`),
		browsertest.Text(`#case-error`, &msg),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "rejected by bob") {
		t.Errorf("case error %q", msg)
	}
	if sum, err := f.svc.Get(b); err != nil || sum.Status != "failed" {
		t.Errorf("the server has case %s %+v (%v)", b, sum, err)
	}

	// A bad payload typed into the form is refused with the server's message.
	_, c := f.deployAndStart(t, "order-c")
	var refusal string
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.srv.URL+"/#/case/"+c),
		chromedp.WaitVisible(chromedp.CSS(`#signal-send`)),
		chromedp.SendKeys(chromedp.CSS(`#signal-payload`), `{"ok": "yes", "by": "bob"}`),
		chromedp.Click(chromedp.CSS(`#signal-send`)),
		browsertest.WaitJS(`document.querySelector('#signal-result .error') !== null`),
		browsertest.Text(`#signal-result`, &refusal),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(refusal, "ok") {
		t.Errorf("refusal %q does not name the field", refusal)
	}

	// The programs page lists the program and shows its source.
	var src string
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.srv.URL+"/#/programs"),
		chromedp.WaitVisible(chromedp.CSS(`#programs tbody tr a`)),
		chromedp.Click(chromedp.CSS(`#programs tbody tr a`)),
		chromedp.WaitVisible(chromedp.CSS(`pre.source`)),
		browsertest.Text(`pre.source`, &src),
		chromedp.WaitVisible(chromedp.CSS(`.graph svg`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(src, "workflow Approve(id: string) -> string {") {
		t.Errorf("program source %q", src)
	}

	// The filters narrow the list: by status, then by business key.
	var rows int
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.srv.URL+"/#/?status=completed"),
		browsertest.WaitJS(fmt.Sprintf(`document.querySelector('#cases tr[data-case=%q]') !== null`, a)),
		browsertest.Eval(`document.querySelectorAll('#cases tbody tr').length`, &rows),
	)
	if err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("%d cases listed as completed, want 1", rows)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.srv.URL+"/#/?key=order-c"),
		browsertest.WaitJS(fmt.Sprintf(`document.querySelector('#cases tr[data-case=%q]') !== null && document.querySelectorAll('#cases tbody tr').length === 1`, c)),
	)
	if err != nil {
		t.Fatal(err)
	}
}
