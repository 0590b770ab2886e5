// This file implements the replay guard of knhk serve --tenants: a
// captured request sent again is refused, by its one-time token or by
// its request nonce.
//
// A bearer token alone is good until it expires, so a captured request
// could be sent again as often as its token lives. Two things stop that:
//
//   - a one-time token (claim once, with a jti) is accepted for one call:
//     its jti is remembered until the token expires, in memory and in
//     DIR/tenants/used-tokens so that a restart does not forget it;
//   - a request nonce (auth.NonceHeader and auth.RequestTimeHeader) is
//     accepted once within the replay window around its time: a request
//     whose time is outside the window is refused as stale, and one whose
//     nonce was seen is refused as a replay. With RequireNonce, every call
//     that changes something (a method needing operator or more) must
//     carry one; without it, a nonce is checked whenever a call carries
//     one, as knhk's CLI always does.
//
// A client's retry is a new request with a new nonce, so it passes; an
// idempotent method (StartCase and SignalCase with a request_id) then
// answers it with the first attempt's result instead of acting twice.
// A client that timed out may also send the very same request again,
// nonce and all. So the guard remembers what each nonce was first sent
// with (requestBinding: a digest of the caller and the request's bytes,
// and its request_id): that same request of that same caller, when it
// carries a request_id, passes as a retry and gets the first answer
// from the idempotent method; the nonce on anything else (another body,
// another request id, another caller, or a call without a request id,
// which would act twice) is refused as a replay.
// The nonces are kept in memory only: after a restart the guard refuses
// requests timed before the server started (less restartSkew), so a
// request captured before the restart cannot be replayed after it.

package tenant

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/knhk/knhk/server/auth"
)

// DefaultReplayWindow is how far a request's time may be from the
// server's clock, either way.
const DefaultReplayWindow = 5 * time.Minute

// restartSkew is how far before the server's start a request may be
// timed: a client's clock a little behind the server's still works.
const restartSkew = 2 * time.Second

// maxNonces bounds the nonces remembered; beyond it calls with a nonce
// are refused until old ones age out of the window (a tenant's rate
// limit keeps honest traffic far below it).
const maxNonces = 1 << 20

// ErrReplay is wrapped by every refusal of the replay guard.
var ErrReplay = errors.New("replayed request")

// replayGuard remembers used one-time tokens and request nonces.
type replayGuard struct {
	window  time.Duration
	require bool
	start   time.Time
	path    string // the used-tokens file; "" keeps them in memory only

	mu     sync.Mutex
	used   map[string]time.Time // one-time token id -> its expiry
	nonces map[string]nonceUse  // tenant NUL nonce -> its first use
}

// nonceUse is a nonce's first use: when it may be forgotten, and the
// request it was bound to.
type nonceUse struct {
	forget time.Time
	bind   binding
}

func newReplayGuard(data string, window time.Duration, require bool, now time.Time) (*replayGuard, error) {
	if window <= 0 {
		window = DefaultReplayWindow
	}
	g := &replayGuard{window: window, require: require, start: now, used: map[string]time.Time{}, nonces: map[string]nonceUse{}}
	if data != "" {
		g.path = filepath.Join(Dir(data), "used-tokens")
		if err := g.load(now); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// load reads the used-tokens file, dropping the tokens expired since,
// and rewrites it without them.
func (g *replayGuard) load(now time.Time) error {
	f, err := os.Open(g.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		id, exp, ok := strings.Cut(sc.Text(), " ")
		sec, err := strconv.ParseInt(exp, 10, 64)
		if !ok || err != nil || id == "" {
			f.Close()
			return fmt.Errorf("%s:%d: want \"JTI EXPIRY\"", g.path, n)
		}
		if t := time.Unix(sec, 0); t.After(now) {
			g.used[id] = t
		}
	}
	f.Close()
	if err := sc.Err(); err != nil {
		return err
	}
	var b strings.Builder
	for id, t := range g.used {
		fmt.Fprintf(&b, "%s %d\n", id, t.Unix())
	}
	tmp := g.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, g.path)
}

// check refuses r when it replays a one-time token or a nonce, carries
// a stale or bad nonce, or (with require) changes something without
// one. need is the least role r's route needs; r's body is read (at
// most max bytes, and put back) to bind a nonce to it. It returns the
// digest r's nonce is bound to, "" for none.
func (g *replayGuard) check(r *http.Request, p auth.Principal, need auth.Role, max int64, now time.Time) (string, error) {
	if p.Once {
		if err := g.useToken(p, now); err != nil {
			return "", err
		}
	}
	nonce, at, ok, err := auth.Nonce(r.Header)
	if err != nil {
		return "", err
	}
	if !ok {
		if g.require && need >= auth.RoleOperator && strings.HasPrefix(r.URL.Path, auth.ServicePath) {
			return "", fmt.Errorf("%s needs the %s and %s headers: this server refuses replayable calls that change data (knhk's CLI sends them)", r.URL.Path, auth.NonceHeader, auth.RequestTimeHeader)
		}
		return "", nil
	}
	if at.Before(now.Add(-g.window)) || at.After(now.Add(g.window)) {
		return "", fmt.Errorf("%w: request time %s is more than %v from the server's clock %s", ErrReplay, at.UTC().Format(time.RFC3339Nano), g.window, now.UTC().Format(time.RFC3339))
	}
	if at.Before(g.start.Add(-restartSkew)) {
		return "", fmt.Errorf("%w: request time %s is before the server started (%s); send it again", ErrReplay, at.UTC().Format(time.RFC3339Nano), g.start.UTC().Format(time.RFC3339))
	}
	b := requestBinding(r, p, max)
	key := p.Tenant + "\x00" + nonce
	g.mu.Lock()
	defer g.mu.Unlock()
	if u, seen := g.nonces[key]; seen {
		if !b.retries(u.bind) {
			return "", fmt.Errorf("%w: nonce %s was already used%s", ErrReplay, nonce, b.unlike(u.bind))
		}
		return b.digest, nil
	}
	if len(g.nonces) >= maxNonces {
		g.sweepLocked(now)
		if len(g.nonces) >= maxNonces {
			return "", fmt.Errorf("too many requests with nonces in the last %v; retry later", g.window)
		}
	}
	g.nonces[key] = nonceUse{forget: at.Add(g.window), bind: b}
	return b.digest, nil
}

// useToken accepts one-time token p once.
func (g *replayGuard) useToken(p auth.Principal, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, seen := g.used[p.ID]; seen {
		return fmt.Errorf("%w: one-time token %s was already used", ErrReplay, p.ID)
	}
	exp := p.Expires
	if exp.IsZero() || exp.Before(now) {
		exp = now.Add(time.Minute) // the verifier's leeway
	}
	if g.path != "" {
		// Durable before the call goes on: a crash must not make the
		// token good again.
		f, err := os.OpenFile(g.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		// A minute past exp: the verifiers' leeway is 30s.
		_, err = fmt.Fprintf(f, "%s %d\n", p.ID, exp.Add(time.Minute).Unix())
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("recording one-time token %s: %w", p.ID, err)
		}
	}
	g.used[p.ID] = exp
	return nil
}

// sweep forgets the nonces and tokens that can no longer be replayed.
func (g *replayGuard) sweep(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweepLocked(now)
}

func (g *replayGuard) sweepLocked(now time.Time) {
	for k, u := range g.nonces {
		if now.After(u.forget) {
			delete(g.nonces, k)
		}
	}
	for k, t := range g.used {
		if now.After(t.Add(time.Minute)) {
			delete(g.used, k)
		}
	}
}

// OneTimeKeys returns the one-time keys of r, a call the front let
// through (its principal in r's context): its tenant's request nonce
// and its one-time token's id, as the guard remembers them, with the
// digest the nonce is bound to (requestBinding), the request's time and
// when a replay of it is stale everywhere. None without a principal or
// either key. A raft cluster node carries them into the group's log
// with the call's first command (runtime/cluster's WithNonce), so that
// a call captured on one node and replayed to another is refused there
// too: each node's guard knows only the calls it received, the log
// every call that changed something. The digest lets the log answer the
// same request sent again, after a failover, with its first outcome.
func OneTimeKeys(r *http.Request) (keys []string, bind string, at, until time.Time) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		return nil, "", at, until
	}
	at = time.Now()
	if nonce, t, ok, err := auth.Nonce(r.Header); ok && err == nil {
		keys, at = append(keys, p.Tenant+"\x00"+nonce), t
		bind, _ = r.Context().Value(bindKey{}).(string)
	}
	until = at.Add(DefaultReplayWindow)
	if p.Once && p.ID != "" {
		keys = append(keys, "one-time token\x00"+p.ID)
		until = later(until, p.Expires)
	}
	return keys, bind, at, until
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
