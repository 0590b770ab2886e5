package tenant

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/internal/browsertest"
	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
	"github.com/knhk/knhk/server/console"
	"github.com/knhk/knhk/server/metrics"
)

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
	ctx := browsertest.Start(t, 120*time.Second)
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
		browsertest.WaitJS(`location.hash === '#/login' && document.querySelector('#login-form') !== null`),
		signIn("not-a-token"),
		browsertest.WaitJS(`document.querySelector('#login-message.error') !== null`),
		browsertest.Text(`#login-message`, &bad),
		signIn(acmeViewer),
		browsertest.WaitJS(`location.hash === '#/' && !document.getElementById('tenant-box').hidden`),
		chromedp.Navigate(url+"/#/audit"),
		browsertest.WaitJS(`document.querySelector('#audit-error') !== null`),
		browsertest.Text(`#audit-error`, &refused),
		signIn(betaAdmin),
		browsertest.WaitJS(`location.hash === '#/'`),
		signIn(acmeAdmin),
		browsertest.WaitJS(`location.hash === '#/' && document.querySelectorAll('#tenant-switch option').length === 3`),
		browsertest.Eval(`(s => s.options[s.selectedIndex].textContent)(document.getElementById('tenant-switch'))`, &switcher),
		chromedp.Navigate(url+"/#/audit"),
		browsertest.WaitJS(`document.querySelector('#audit-records tr[data-seq]') !== null`),
		browsertest.Text(`#audit-verdict`, &verdict),
		browsertest.Text(`#audit-records`, &records),
		browsertest.Text(`#audit-criteria`, &criteria),
		chromedp.Navigate(url+"/#/usage"),
		browsertest.WaitJS(`document.querySelector('#usage tr[data-metric]') !== null`),
		browsertest.Text(`#usage`, &usage),
		chromedp.Navigate(url+"/#/license"),
		browsertest.WaitJS(`document.querySelector('#entitlement') !== null`),
		browsertest.Text(`#entitlement`, &lic),
		// Switch to beta with the switcher: the licence page follows.
		chromedp.SetValue(chromedp.CSS(`#tenant-switch`), "1"),
		browsertest.Eval(`document.getElementById('tenant-switch').dispatchEvent(new Event('change'))`, new(bool)),
		browsertest.WaitJS(`(document.querySelector('#entitlement') || {}).textContent?.includes('No licence')`),
		browsertest.Text(`#entitlement`, &betaLic),
		browsertest.Eval(`document.querySelectorAll('#tenant-switch option').length`, &options),
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
