// Package learn implements the policies of learned routes (`route learn`):
// contextual bandits (ε-greedy, UCB, Thompson sampling), tabular
// Q-learning and SARSA over discretised features, and an actor-critic
// with a small dense network trained in minibatches on several
// goroutines from a prioritised experience replay.
//
// A [Policy] is the engine's [engine.Learner]. Its Choose reads an
// immutable snapshot of the route's policy through an atomic pointer and
// never waits for training; Learn hands the outcome to the route's
// trainer goroutine through a bounded queue and drops it (counting the
// drop) rather than block a case. The trainer publishes a new snapshot
// after each batch of outcomes and persists it in the data directory
// (see persist.go), so a policy survives restarts. Replay of a case never
// asks the policy: the engine records the choice in the case's events.
//
// Routes whose candidates call the same task share that resource: the
// policy sees the number of calls of each candidate still running (see
// coord.go), so that routes spread their load instead of all picking the
// same fast service until it is overloaded.
//
// The numeric work is written on gonum; the learning curves are plotted
// with gonum/plot.
package learn
