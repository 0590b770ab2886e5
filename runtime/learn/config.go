// This file implements the configuration of the learned routes: which
// policy each route uses and its parameters, read from learn/config.json
// in the data directory.

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
	"sort"
)

// Algorithm names a policy.
type Algorithm string

// The policies a route can use.
const (
	EpsilonGreedy Algorithm = "epsilon-greedy"
	UCB           Algorithm = "ucb"
	Thompson      Algorithm = "thompson"
	QLearning     Algorithm = "q-learning"
	SARSA         Algorithm = "sarsa"
	ActorCritic   Algorithm = "actor-critic"
)

// Algorithms lists the policies in the order the docs give them.
var Algorithms = []Algorithm{EpsilonGreedy, UCB, Thompson, QLearning, SARSA, ActorCritic}

// RouteConfig is the policy of one route and its parameters. A zero
// field takes its default (see [RouteConfig.withDefaults]).
type RouteConfig struct {
	Policy Algorithm `json:"policy,omitempty"`
	// Epsilon is the exploration rate of ε-greedy, Q-learning and SARSA
	// (default 0.1), and the uniform share mixed into the actor-critic's
	// choices (default 0.05).
	Epsilon float64 `json:"epsilon,omitempty"`
	// Alpha is the smallest step of the tabular averages (default 0.05):
	// after 1/Alpha outcomes a state forgets at that rate, which lets it
	// follow a service whose speed changes.
	Alpha float64 `json:"alpha,omitempty"`
	// C scales UCB's bonus, in standard deviations of the reward (default 1).
	C float64 `json:"c,omitempty"`
	// LearningRate is the actor-critic's Adam step (default 0.01).
	LearningRate float64 `json:"learning_rate,omitempty"`
	// Hidden is the width of the actor-critic's hidden layer (default 32).
	Hidden int `json:"hidden,omitempty"`
	// Batch and Steps: the actor-critic trains Steps minibatches of Batch
	// experiences per outcome (defaults 32 and 2).
	Batch int `json:"batch,omitempty"`
	Steps int `json:"steps,omitempty"`
	// Replay is the capacity of the prioritised replay (default 1024: small, so that
	// the network forgets a world that has changed);
	// PriorityAlpha and PriorityBeta its exponents (defaults 0.6, 0.4).
	Replay        int     `json:"replay,omitempty"`
	PriorityAlpha float64 `json:"priority_alpha,omitempty"`
	PriorityBeta  float64 `json:"priority_beta,omitempty"`
	// Bins gives the bucket edges of numeric features by position (null
	// for the default buckets, one per power of two).
	Bins [][]float64 `json:"bins,omitempty"`
	// Coordinate adds the running calls of each candidate to the
	// features (default: when another route shares one of its tasks).
	Coordinate *bool `json:"coordinate,omitempty"`
}

// withDefaults returns c with every zero field set.
func (c RouteConfig) withDefaults() RouteConfig {
	if c.Policy == "" {
		c.Policy = Thompson
	}
	if c.Epsilon == 0 {
		c.Epsilon = 0.1
		if c.Policy == ActorCritic {
			c.Epsilon = 0.05
		}
	}
	if c.Alpha == 0 {
		c.Alpha = 0.05
	}
	if c.C == 0 {
		c.C = 1
	}
	if c.LearningRate == 0 {
		c.LearningRate = 0.01
	}
	if c.Hidden == 0 {
		c.Hidden = 32
	}
	if c.Batch == 0 {
		c.Batch = 32
	}
	if c.Steps == 0 {
		c.Steps = 2
	}
	if c.Replay == 0 {
		c.Replay = 1024
	}
	if c.PriorityAlpha == 0 {
		c.PriorityAlpha = 0.6
	}
	if c.PriorityBeta == 0 {
		c.PriorityBeta = 0.4
	}
	return c
}

// validate reports the first parameter out of its range.
func (c RouteConfig) validate() error {
	known := false
	for _, a := range Algorithms {
		known = known || a == c.Policy
	}
	if !known {
		return fmt.Errorf("unknown policy %q (want one of %v)", c.Policy, Algorithms)
	}
	in := func(name string, v, lo, hi float64) error {
		if math.IsNaN(v) || v < lo || v > hi {
			return fmt.Errorf("%s %v is outside [%v, %v]", name, v, lo, hi)
		}
		return nil
	}
	for _, err := range []error{
		in("epsilon", c.Epsilon, 0, 1),
		in("alpha", c.Alpha, 1e-6, 1),
		in("c", c.C, 0, 100),
		in("learning_rate", c.LearningRate, 1e-6, 1),
		in("hidden", float64(c.Hidden), 1, 1024),
		in("batch", float64(c.Batch), 1, 4096),
		in("steps", float64(c.Steps), 1, 64),
		in("replay", float64(c.Replay), 1, 1<<20),
		in("priority_alpha", c.PriorityAlpha, 0, 1),
		in("priority_beta", c.PriorityBeta, 0, 1),
	} {
		if err != nil {
			return err
		}
	}
	for i, b := range c.Bins {
		if !sort.Float64sAreSorted(b) {
			return fmt.Errorf("bins of feature %d are not in increasing order", i+1)
		}
		for _, x := range b {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("bins of feature %d hold %v", i+1, x)
			}
		}
	}
	return nil
}

// Config is the learn/config.json of a data directory: a default for
// every route and settings per route, which override it field by field.
type Config struct {
	Default RouteConfig            `json:"default"`
	Routes  map[string]RouteConfig `json:"routes,omitempty"`
}

// For returns the configuration of route, defaults filled in.
func (c *Config) For(route string) RouteConfig {
	out := c.Default
	if r, ok := c.Routes[route]; ok {
		merge(&out, r)
	}
	return out.withDefaults()
}

// merge sets each non-zero field of over in c.
func merge(c *RouteConfig, over RouteConfig) {
	var base map[string]any
	b, _ := json.Marshal(c)
	json.Unmarshal(b, &base)
	o, _ := json.Marshal(over)
	json.Unmarshal(o, &base)
	b, _ = json.Marshal(base)
	*c = RouteConfig{}
	json.Unmarshal(b, c)
}

// ConfigFile is the name of the configuration in a data directory.
const ConfigFile = "learn/config.json"

// ReadConfig reads dir's learn/config.json; a missing file is the
// default configuration. Unknown fields, unknown policies and values out
// of range are errors that name the file.
func ReadConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, b)
}

// ParseConfig decodes and checks a configuration; path is for messages.
func ParseConfig(path string, b []byte) (*Config, error) {
	var c Config
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if d.More() {
		return nil, fmt.Errorf("%s: data after the configuration", path)
	}
	if err := c.Default.withDefaults().validate(); err != nil {
		return nil, fmt.Errorf("%s: default: %w", path, err)
	}
	names := make([]string, 0, len(c.Routes))
	for n := range c.Routes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := c.For(n).validate(); err != nil {
			return nil, fmt.Errorf("%s: route %s: %w", path, n, err)
		}
	}
	return &c, nil
}
