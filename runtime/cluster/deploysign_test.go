package cluster

import (
	"errors"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/runtime/worker"
)

// trustVerifier admits a deploy whose signature file holds a signature
// of its hash by a key of ts, as knhk serve --node does for a tenant
// with a trust directory.
func trustVerifier(ts *sign.TrustSet) DeployVerifier {
	return func(hash string, sigs []byte) error {
		if len(sigs) == 0 {
			return errors.New("unsigned")
		}
		ss, err := sign.ParseSignatures(sigs)
		if err != nil {
			return err
		}
		_, err = ts.VerifyAny(ss, sign.DomainDescriptor, hash, sign.Policy{})
		return err
	}
}

// TestSignedDeploy deploys through the log of a group whose deploys
// must be signed: a deploy signed by the trusted key is compiled by
// every replica; an unsigned one, one signed by another key, and a
// signature of another program are refused by the leader, and a deploy
// that reaches the log without a good signature (proposed past the
// leader's check) is refused by every replica alike.
func TestSignedDeploy(t *testing.T) {
	trusted, _ := sign.Generate(sign.Ed25519)
	other, _ := sign.Generate(sign.Ed25519)
	verify := trustVerifier(sign.NewTrustSet(trusted.Public()))
	c := newTestCluster(t, compile(t, testSource))
	cfg := func(cfg *Config) {
		cfg.Compile = gateCompile
		cfg.VerifyDeploy = verify
		cfg.WorkerFor = func(p *ir.Program) engine.Worker { return worker.New(p, worker.Options{Registry: c.fx.registry()}) }
	}
	c.add("n1", nil, cfg)
	l := c.leader()
	n2 := c.add("n2", nil, cfg)
	if err := l.Join(ctx(t), Member{ID: "n2", Raft: "n2", API: "api-n2"}, n2.ProgramHash()); err != nil {
		t.Fatal(err)
	}
	sigOf := func(k *sign.PrivateKey, src string) ([]byte, string) {
		t.Helper()
		p, err := gateCompile("v.knhk", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		h, _ := p.Hash()
		s, err := sign.NewSignature(k, sign.DomainDescriptor, h)
		if err != nil {
			t.Fatal(err)
		}
		return sign.MarshalSignatures(s), h
	}
	v2 := strings.Replace(testSource, "got = x\n", "got = x * 10\n", 1)
	v3 := strings.Replace(testSource, "got = x\n", "got = x * 100\n", 1)
	good, h2 := sigOf(trusted, v2)
	bad, _ := sigOf(other, v2)
	forV3, h3 := sigOf(trusted, v3)
	for _, c := range []struct {
		what string
		src  string
		sigs []byte
		want string
	}{
		{"unsigned", v2, nil, "unsigned"},
		{"signed by another key", v2, bad, "v.knhk refused"},
		{"a signature of another program", v2, forV3, "v.knhk refused"},
		{"garbage", v2, []byte("not a signature"), "v.knhk refused"},
	} {
		_, err := l.DeploySigned(ctx(t), "v.knhk", []byte(c.src), c.sigs)
		var se *SignatureError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a SignatureError with %q", c.what, err, c.want)
		}
	}
	if d := l.FSM().Deployed(); len(d) != 0 {
		t.Fatalf("refused deploys are deployed: %+v", d)
	}

	// Past the leader's check, straight into the log: every replica
	// refuses it before compiling.
	for _, sigs := range [][]byte{nil, bad, forV3} {
		_, err := l.propose(ctx(t), &Command{Op: OpDeploy, Program: l.hash, Deploy: &Deploy{Name: "v.knhk", Source: []byte(v2), Hash: h2, Sigs: sigs}})
		var se *SignatureError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "deploy of v.knhk refused") {
			t.Fatalf("a forged deploy in the log: %v", err)
		}
	}
	h, err := l.DeploySigned(ctx(t), "v.knhk", []byte(v2), good)
	if err != nil || h != h2 {
		t.Fatalf("the signed deploy: %s %v", h, err)
	}
	for _, n := range []*Node{l, n2} {
		waitFor(t, "the signed program on "+n.ID(), func() bool {
			d := n.FSM().Deployed()
			return len(d) == 1 && d[0].Hash == h2
		})
	}
	if _, err := l.StartIn(ctx(t), h2, "", "", "new", "W", []any{"new"}); err != nil {
		t.Fatal(err)
	}
	// A good signature of v3 with another source: the replicas check
	// the signature against the hash it claims, then that the source
	// compiles to it; it does not, so the source never runs and the
	// replica stops applying, as when two nodes compile a source
	// differently.
	if _, err := l.propose(ctx(t), &Command{Op: OpDeploy, Program: l.hash, Deploy: &Deploy{Name: "v.knhk", Source: []byte(strings.Replace(v3, "100", "1000", 1)), Hash: h3, Sigs: forV3}}); err == nil || !errors.Is(err, ErrProgram) {
		t.Fatalf("another source under v3's signed hash: %v", err)
	}

	if p, ok := l.Program(h2); !ok || p.Net("W") == nil {
		t.Fatal("the signed program is gone")
	}
}
