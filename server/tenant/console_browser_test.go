package tenant

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
	"github.com/knhk/knhk/server/console"
	"github.com/knhk/knhk/server/metrics"
)

// consoleChromium returns the path of a Chromium to drive, skipping the
// test when there is none, unless KNHK_REQUIRE_E2E (set by .ci/test.sh)
// makes that a failure.
func consoleChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("KNHK_REQUIRE_E2E") != "" {
		t.Fatal("no chromium on PATH (KNHK_REQUIRE_E2E is set): apt-get install chromium")
	}
	t.Skip("no chromium on PATH")
	return ""
}

func consoleBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(consoleChromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1100),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(func() { cancelTime(); cancelCtx(); cancelAlloc() })
	return ctx
}

func pollJS(cond string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))(ctx, t)
		if err != nil {
			err = fmt.Errorf("waiting for %s: %w", cond, err)
		}
		return chromedp.Void{}, err
	}
}

func textOf(sel string, dst *string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := chromedp.Text(chromedp.CSS(sel))(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

func evalInto[T any](expr string, dst *T) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := chromedp.Evaluate[T](expr)(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

// consoleFixture is knhk serve --tenants as cmd/knhk wires it: each
// tenant with its own /metrics, tenant acme with a licence's metrics, and
// every call audited.
func consoleFixture(t *testing.T) (*fixture, string) {
	t.Helper()
	data := t.TempDir()
	reg, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"acme", "beta"} {
		if _, err := reg.Create(id, Quota{}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.Save(data); err != nil {
		t.Fatal(err)
	}
	priv, err := IssuerKey(data)
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := os.ReadFile(PubPath(data))
	keys, err := auth.ParseKeys("issuer.pub", pem)
	if err != nil {
		t.Fatal(err)
	}
	def, err := server.Open(data, server.Options{IndexEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{data: data, def: def, priv: func(p auth.Principal) string {
		tok, err := auth.Issue(priv, Issuer, p, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}}
	var mu sync.Mutex
	ms := map[string]*metrics.Metrics{}
	h, err := NewHost(Options{
		Data:     f.data,
		Verifier: &auth.Verifier{Keys: keys, Issuer: Issuer},
		Open: func(id, dir string, admit func(string) (func(), error)) (*server.Service, error) {
			m := metrics.New(metrics.Options{})
			mu.Lock()
			ms[id] = m
			mu.Unlock()
			return server.Open(dir, server.Options{IndexEvery: -1, AdmitStart: admit, Observer: m})
		},
		Mount: func(id string, svc *server.Service, mux *server.Mux) {
			mu.Lock()
			m := ms[id]
			mu.Unlock()
			m.WatchCases(svc)
			if id == "acme" { // what knhk serve --license registers
				l := prometheus.Labels{"customer": "Acme Corp", "tenant": "acme"}
				m.Registry().MustRegister(
					prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "knhk_license_expiry_timestamp_seconds", Help: "x", ConstLabels: l}, func() float64 { return 4102444800 }),
					prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "knhk_license_month_transitions", Help: "x", ConstLabels: l}, func() float64 { return 250 }),
					prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "knhk_license_month_transitions_limit", Help: "x", ConstLabels: l}, func() float64 { return 1000 }))
			}
			mux.Handle("GET /metrics", m.Handler())
		},
		Reload: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := server.NewMux(f.def, server.MuxOptions{Authorize: h.Authorizer(auth.DefaultTenant)})
	console.Mount(mux, f.def)
	h.SetDefault(mux)
	log, err := audit.Open(f.data)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h.Audited(log))
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Close(ctx)
		def.Close(ctx)
		log.Close()
	})
	return f, ts.URL
}

// TestConsoleTenancy drives the console's tenancy pages in headless
// Chromium: an audit page without a credential leads to the login page;
// a bad token is refused there; a viewer signs in and is refused the
// audit log with the server's reason; an admin of acme and one of beta
// sign in, the tenant switcher offers all three and switches; acme's
// audit viewer shows its calls, verified, with the SOC 2 criteria and no
// record of beta's; the usage page shows acme's counters; the licence
// page shows acme's licence and says that beta has none.
func TestConsoleTenancy(t *testing.T) {
	ctx := consoleBrowser(t)
	f, url := consoleFixture(t)
	acmeAdmin := f.priv(auth.Principal{Subject: "alice", Tenant: "acme", Role: auth.RoleAdmin})
	acmeViewer := f.priv(auth.Principal{Subject: "victor", Tenant: "acme", Role: auth.RoleViewer})
	betaAdmin := f.priv(auth.Principal{Subject: "bob", Tenant: "beta", Role: auth.RoleAdmin})
	api := func(tok string) knhkv1connect.KnhkServiceClient {
		return knhkv1connect.NewKnhkServiceClient(http.DefaultClient, url, connect.WithInterceptors(bearerInterceptor(tok)))
	}
	bg := context.Background()
	if _, err := api(acmeAdmin).Deploy(bg, connect.NewRequest(&knhkv1.DeployRequest{Name: "two.knhk", Source: testSrc})); err != nil {
		t.Fatal(err)
	}
	s, err := api(acmeAdmin).StartCase(bg, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Inc", InputJson: "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api(betaAdmin).GetCase(bg, connect.NewRequest(&knhkv1.GetCaseRequest{CaseId: "beta-secret-case"})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatal(err)
	}
	signIn := func(tok string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Navigate(url+"/#/login"),
			chromedp.WaitVisible(chromedp.CSS(`#login-token`)),
			chromedp.SetValue(chromedp.CSS(`#login-token`), tok),
			chromedp.Click(chromedp.CSS(`#login-submit`)),
		)
	}
	var bad, refused, switcher, verdict, records, criteria, usage, lic, betaLic string
	var options int
	err = chromedp.Do(ctx,
		chromedp.Navigate(url+"/#/audit"),
		pollJS(`location.hash === '#/login' && document.querySelector('#login-form') !== null`),
		signIn("not-a-token"),
		pollJS(`document.querySelector('#login-message.error') !== null`),
		textOf(`#login-message`, &bad),
		signIn(acmeViewer),
		pollJS(`location.hash === '#/' && !document.getElementById('tenant-box').hidden`),
		chromedp.Navigate(url+"/#/audit"),
		pollJS(`document.querySelector('#audit-error') !== null`),
		textOf(`#audit-error`, &refused),
		signIn(betaAdmin),
		pollJS(`location.hash === '#/'`),
		signIn(acmeAdmin),
		pollJS(`location.hash === '#/' && document.querySelectorAll('#tenant-switch option').length === 3`),
		evalInto(`(s => s.options[s.selectedIndex].textContent)(document.getElementById('tenant-switch'))`, &switcher),
		chromedp.Navigate(url+"/#/audit"),
		pollJS(`document.querySelector('#audit-records tr[data-seq]') !== null`),
		textOf(`#audit-verdict`, &verdict),
		textOf(`#audit-records`, &records),
		textOf(`#audit-criteria`, &criteria),
		chromedp.Navigate(url+"/#/usage"),
		pollJS(`document.querySelector('#usage tr[data-metric]') !== null`),
		textOf(`#usage`, &usage),
		chromedp.Navigate(url+"/#/license"),
		pollJS(`document.querySelector('#entitlement') !== null`),
		textOf(`#entitlement`, &lic),
		// Switch to beta with the switcher: the licence page follows.
		chromedp.SetValue(chromedp.CSS(`#tenant-switch`), "1"),
		evalInto(`document.getElementById('tenant-switch').dispatchEvent(new Event('change'))`, new(bool)),
		pollJS(`(document.querySelector('#entitlement') || {}).textContent?.includes('No licence')`),
		textOf(`#entitlement`, &betaLic),
		evalInto(`document.querySelectorAll('#tenant-switch option').length`, &options),
	)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ what, got, want string }{
		{"bad token", bad, "the server refused this token"},
		{"viewer's audit", refused, "role viewer may not export the audit log (needs admin)"},
		{"switcher", switcher, "acme (admin alice)"},
		{"verdict", verdict, "verifies"},
		{"records", records, "StartCase"},
		{"records", records, "case_id=" + s.Msg.CaseId},
		{"records", records, "permission_denied"},
		{"criteria", criteria, "CC8.1"},
		{"usage", usage, "knhk_"},
		{"licence", lic, "Acme Corp"},
		{"licence", lic, "250 of 1,000"},
		{"beta's licence", betaLic, "No licence applies to this tenant"},
	}
	for _, c := range checks {
		if !strings.Contains(c.got, c.want) {
			t.Errorf("%s: %q does not contain %q", c.what, c.got, c.want)
		}
	}
	if options != 3 {
		t.Errorf("the switcher offers %d credentials, want 3", options)
	}
	if strings.Contains(records, "bob") || strings.Contains(records, "beta-secret-case") {
		t.Errorf("acme's audit viewer shows beta's records:\n%s", records)
	}
}
