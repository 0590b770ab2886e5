// This file implements the commands that travel through the raft log
// and their encoding.

package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Op says what a [Command] does.
type Op uint8

// The commands.
const (
	opInvalid Op = iota
	// OpEvent appends Event to case Case at position Pos.
	OpEvent
	// OpMember records (or, with Remove, forgets) the metadata of a
	// member: its API address and labels.
	OpMember
	numOps
)

var opNames = [...]string{"invalid", "event", "member"}

func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", o)
}

// Command is one entry of the replicated log.
type Command struct {
	Op Op `json:"op"`
	// ReqID names the request the command carries out. The FSM answers
	// a second command with the same id with the outcome of the first
	// and does nothing else, so a client may retry a command whose
	// outcome it did not learn. Empty for none.
	ReqID string `json:"req,omitempty"`
	// Program is the hash of the program the proposer runs; a command
	// of another program is refused, never applied.
	Program string `json:"prog"`
	// Case and Pos: OpEvent appends to case Case as its event number
	// Pos (from 0), and only there.
	Case string `json:"case,omitempty"`
	Pos  uint64 `json:"pos,omitempty"`
	// Event is the event, encoded by engine.EncodeEvent.
	Event json.RawMessage `json:"ev,omitempty"`
	// Member is an OpMember's member.
	Member *Member `json:"member,omitempty"`
}

// Member is what the cluster knows of a node beyond raft's
// configuration.
type Member struct {
	ID     string            `json:"id"`
	Raft   string            `json:"raft"`
	API    string            `json:"api,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	// Remove forgets the member (OpMember).
	Remove bool `json:"remove,omitempty"`
}

// Region is the member's "region" label, "" without one.
func (m *Member) Region() string { return m.Labels["region"] }

// commandVersion is the first byte of every encoded command, so that a
// log written by another version of this encoding is refused clearly.
const commandVersion = 1

// ErrBadCommand wraps every failure to decode a log entry.
var ErrBadCommand = errors.New("bad cluster command")

// Encode encodes c: a version byte, then JSON.
func (c *Command) Encode() ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return append([]byte{commandVersion}, b...), nil
}

// DecodeCommand decodes an entry written by [Command.Encode] and checks
// that it is well formed.
func DecodeCommand(b []byte) (*Command, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty entry", ErrBadCommand)
	}
	if b[0] != commandVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrBadCommand, b[0], commandVersion)
	}
	var c Command
	if err := json.Unmarshal(b[1:], &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCommand, err)
	}
	switch c.Op {
	case OpEvent:
		if c.Case == "" || len(c.Event) == 0 {
			return nil, fmt.Errorf("%w: event command without a case or an event", ErrBadCommand)
		}
	case OpMember:
		if c.Member == nil || c.Member.ID == "" {
			return nil, fmt.Errorf("%w: member command without a member id", ErrBadCommand)
		}
	default:
		return nil, fmt.Errorf("%w: unknown op %s", ErrBadCommand, c.Op)
	}
	return &c, nil
}
