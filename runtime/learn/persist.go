// This file implements the policy files: one per route in the data
// directory's learn/ folder, written whole to a temporary file and
// renamed over the old one, so that a crash leaves the old policy or the
// new one, never half of each. A file records its format version and
// the route it was trained for (algorithm, candidates, feature kinds);
// one that does not match is refused with a message that says why, and
// is left as it is.

package learn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FormatName and FormatVersion identify the policy files this package
// reads and writes. The version changes whenever the layout does.
const (
	FormatName    = "knhk-learn-policy"
	FormatVersion = 1
)

// ErrMismatch marks a policy file that belongs to another version of
// knhk or of the route.
var ErrMismatch = errors.New("policy file does not match")

// File is the content of a policy file.
type File struct {
	Format    string      `json:"format"`
	Version   int         `json:"version"`
	Route     string      `json:"route"`
	Signature Signature   `json:"signature"`
	Config    RouteConfig `json:"config"`
	Updates   int64       `json:"updates"`         // outcomes learned from
	Skipped   int64       `json:"skipped"`         // outcomes refused (bad reward or features) or dropped (queue full)
	Worst     *float64    `json:"worst,omitempty"` // the smallest reward of a success: failures earn less
	Saved     time.Time   `json:"saved"`
	State     *agentState `json:"state"`
	Curve     Curve       `json:"curve"`
}

// Signature is what a policy was trained for: a policy trained with
// other candidates or features would choose nonsense, so a file whose
// signature differs from the route's is refused.
type Signature struct {
	Policy     Algorithm `json:"policy"`
	Candidates []string  `json:"candidates"`
	Features   []string  `json:"features"`
	Coordinate bool      `json:"coordinate,omitempty"`
}

func (s Signature) String() string {
	return fmt.Sprintf("%s over (%s) choosing among {%s}", s.Policy, strings.Join(s.Features, ", "), strings.Join(s.Candidates, ", "))
}

func (s Signature) equal(t Signature) bool {
	return s.String() == t.String() && s.Coordinate == t.Coordinate
}

// PolicyPath returns the file of route in data directory dir.
func PolicyPath(dir, route string) string {
	return filepath.Join(dir, "learn", route+".policy.json")
}

// errNotExist is returned by ReadFile for a missing file.
var errNotExist = fs.ErrNotExist

// timeNow is the clock of the saved times.
var timeNow = time.Now

// writeFile writes f to path atomically.
func writeFile(path string, f *File) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".policy-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// ReadFile reads and checks the policy file at path.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := DecodeFile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// DecodeFile decodes a policy file and checks that it is whole: its
// format and version are this package's, and every number in it is
// finite and every table row has one entry per candidate.
func DecodeFile(b []byte) (*File, error) {
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("not a policy file: %v", err)
	}
	if head.Format != FormatName {
		return nil, fmt.Errorf("%w: not a policy file (format %q)", ErrMismatch, head.Format)
	}
	if head.Version != FormatVersion {
		return nil, fmt.Errorf("%w: written by a knhk with policy format %d; this knhk reads format %d", ErrMismatch, head.Version, FormatVersion)
	}
	var f File
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return nil, fmt.Errorf("damaged policy file: %v", err)
	}
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("damaged policy file: %v", err)
	}
	return &f, nil
}

// check reports the first inconsistency of f.
func (f *File) check() error {
	n := len(f.Signature.Candidates)
	if n < 1 {
		return errors.New("no candidates")
	}
	if f.Route == "" {
		return errors.New("no route")
	}
	if f.Signature.Policy != f.Config.Policy {
		return fmt.Errorf("signature policy %q, configuration %q", f.Signature.Policy, f.Config.Policy)
	}
	if err := f.Config.validate(); err != nil {
		return err
	}
	if f.State == nil {
		return errors.New("no state")
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	if f.Worst != nil && !finite(*f.Worst) {
		return errors.New("worst reward is not finite")
	}
	s := f.State
	if !finite(s.Scale.N) || !finite(s.Scale.Mean) || !finite(s.Scale.Var) || s.Scale.N < 0 || s.Scale.Var < 0 {
		return errors.New("reward scale is not finite")
	}
	for k, row := range s.Table {
		if len(row) != n {
			return fmt.Errorf("state %q has %d entries for %d candidates", k, len(row), n)
		}
		for _, a := range row {
			if !a.finite() {
				return fmt.Errorf("state %q holds a number that is not finite", k)
			}
		}
	}
	if f.Config.Policy == ActorCritic {
		if want := (netShape{in: vectorDims, h: f.Config.Hidden, k: n}).size(); len(s.Net) != want {
			return fmt.Errorf("network has %d parameters, want %d", len(s.Net), want)
		}
	} else if len(s.Net) != 0 {
		return errors.New("a tabular policy with a network")
	}
	if len(s.Tokens) > vectorDims-1 {
		return errors.New("too many input tokens")
	}
	for _, x := range s.Net {
		if !finite(x) {
			return errors.New("network weight is not finite")
		}
	}
	return f.Curve.check()
}
