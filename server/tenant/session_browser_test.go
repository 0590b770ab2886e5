package tenant

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/knhk/knhk/server/auth"
)

// TestConsoleSessionBrowser signs in through the console's login page in
// headless Chromium: the page posts the token once and the browser then
// holds only an HttpOnly session cookie (no script sees it, and no
// knhk-token cookie is left), with which a plain request without an
// Authorization header reaches the signed-in tenant; signing out ends
// the session on the server.
func TestConsoleSessionBrowser(t *testing.T) {
	ctx := consoleBrowser(t)
	f, url := consoleFixture(t)
	tok := f.priv(auth.Principal{Subject: "alice", Tenant: "acme", Role: auth.RoleAdmin})
	var cookies, who, after string
	err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/#/login"),
		chromedp.WaitVisible(chromedp.CSS(`#login-token`)),
		chromedp.SetValue(chromedp.CSS(`#login-token`), tok),
		chromedp.Click(chromedp.CSS(`#login-submit`)),
		pollJS(`location.hash === '#/' && !document.getElementById('tenant-box').hidden`),
		evalInto(`document.cookie`, &cookies),
		evalInto(`fetch('/console/api/whoami').then(async r => { window.who = r.status + ' ' + await r.text(); }) && true`, new(bool)),
		pollJS(`window.who !== undefined`),
		evalInto(`window.who`, &who),
		chromedp.Navigate(url+"/#/login"),
		chromedp.WaitVisible(chromedp.CSS(`#sign-out`)),
		chromedp.Click(chromedp.CSS(`#sign-out`)),
		pollJS(`document.getElementById('tenant-box').hidden`),
		evalInto(`fetch('/console/api/whoami').then(r => { window.after = String(r.status); }) && true`, new(bool)),
		pollJS(`window.after !== undefined`),
		evalInto(`window.after`, &after),
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
