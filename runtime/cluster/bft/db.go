// This file works around a shutdown race in CometBFT v0.38: Node.OnStop
// closes the block store while the consensus reactor's per-peer
// queryMaj23Routine may still wake from its sleep and read it, and a read
// of a closed goleveldb panics ("leveldb: closed"), taking the whole
// process down on an otherwise clean stop (cometbft issues #1878 and the
// same trace reported by several CometBFT users).

package bft

import (
	"time"

	dbm "github.com/cometbft/cometbft-db"
	cfg "github.com/cometbft/cometbft/config"
)

// dbProvider opens the node's databases as CometBFT's default provider
// does, but closes each one only after grace has passed, so that a
// reactor goroutine still finishing its last sleep reads an open
// database and then sees its peer stopped and returns. It tells opened
// (when not nil) each database it opens, by CometBFT's id
// ("blockstore", "state", …).
func dbProvider(grace time.Duration, opened func(id string, db dbm.DB)) cfg.DBProvider {
	return func(ctx *cfg.DBContext) (dbm.DB, error) {
		db, err := cfg.DefaultDBProvider(ctx)
		if err != nil {
			return nil, err
		}
		d := lateClose{DB: db, grace: grace}
		if opened != nil {
			opened(ctx.ID, d)
		}
		return d, nil
	}
}

// lateClose is a database whose Close returns at once and closes the
// underlying database after grace.
type lateClose struct {
	dbm.DB
	grace time.Duration
}

func (d lateClose) Close() error {
	time.AfterFunc(d.grace, func() { d.DB.Close() })
	return nil
}

// closeGrace is how long a stopped node's databases stay open: more than
// the longest sleep of a consensus peer routine.
func closeGrace(c *cfg.Config) time.Duration {
	return 2*c.Consensus.PeerQueryMaj23SleepDuration + time.Second
}
