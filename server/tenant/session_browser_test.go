package tenant

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/knhk/knhk/internal/browsertest"
	"github.com/knhk/knhk/server/auth"
)

// TestConsoleSessionBrowser signs in through the console's login page in
// headless Chromium: the page posts the token once and the browser then
// holds only an HttpOnly session cookie (no script sees it, and no
// knhk-token cookie is left), with which a plain request without an
// Authorization header reaches the signed-in tenant; signing out ends
// the session on the server.
func TestConsoleSessionBrowser(t *testing.T) {
	ctx := browsertest.Start(t, 120*time.Second)
	f, url := consoleFixture(t)
	tok := f.priv(auth.Principal{Subject: "alice", Tenant: "acme", Role: auth.RoleAdmin})
	var cookies, who, after string
	err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/#/login"),
		chromedp.WaitVisible(chromedp.CSS(`#login-token`)),
		chromedp.SetValue(chromedp.CSS(`#login-token`), tok),
		chromedp.Click(chromedp.CSS(`#login-submit`)),
		browsertest.WaitJS(`location.hash === '#/' && !document.getElementById('tenant-box').hidden`),
		browsertest.Eval(`document.cookie`, &cookies),
		browsertest.Eval(`fetch('/console/api/whoami').then(async r => { window.who = r.status + ' ' + await r.text(); }) && true`, new(bool)),
		browsertest.WaitJS(`window.who !== undefined`),
		browsertest.Eval(`window.who`, &who),
		chromedp.Navigate(url+"/#/login"),
		chromedp.WaitVisible(chromedp.CSS(`#sign-out`)),
		chromedp.Click(chromedp.CSS(`#sign-out`)),
		browsertest.WaitJS(`document.getElementById('tenant-box').hidden`),
		browsertest.Eval(`fetch('/console/api/whoami').then(r => { window.after = String(r.status); }) && true`, new(bool)),
		browsertest.WaitJS(`window.after !== undefined`),
		browsertest.Eval(`window.after`, &after),
	)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cookies, SessionCookie) || strings.Contains(cookies, "knhk-token") {
		t.Errorf("a script sees the credential cookie: %q", cookies)
	}
	if !strings.HasPrefix(who, "200") || !strings.Contains(who, `"acme"`) || !strings.Contains(who, `"alice"`) {
		t.Errorf("whoami with the session: %s", who)
	}
	if after != "401" {
		t.Errorf("whoami after sign-out: %s", after)
	}
}
