// This file implements the commands that travel through the raft log
// and their encoding.

package cluster

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
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
	// OpDeploy deploys a program (Deploy): every replica compiles it.
	OpDeploy
	// OpTenant changes the cluster's tenancy (Tenancy; tenancy.go).
	OpTenant
	// OpAudit appends Audit to the cluster's audit chain (audit.go).
	OpAudit
	// OpMeter carries only Accel: accelerator time no other command
	// took (meter.go).
	OpMeter
	// OpErase erases case Case: every replica drops it and keeps a
	// tombstone; a node that seals per case shreds it (erase.go).
	OpErase
	numOps
)

var opNames = [...]string{"invalid", "event", "member", "deploy", "tenant", "audit", "meter", "erase"}

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
	// Key is the business key of the case an OpEvent at Pos 0 starts;
	// the FSM refuses it when the key names another case.
	Key string `json:"key,omitempty"`
	// Member is an OpMember's member.
	Member *Member `json:"member,omitempty"`
	// Deploy is an OpDeploy's program.
	Deploy *Deploy `json:"deploy,omitempty"`
	// Tenancy is an OpTenant's change of the tenancy.
	Tenancy *TenancyChange `json:"tenancy,omitempty"`
	// Nonce is the one-time keys of the request whose first command
	// this is; the FSM refuses a second use (nonce.go).
	Nonce *Nonce `json:"nonce,omitempty"`
	// Audit is an OpAudit's record, chained by every replica (audit.go),
	// or the record of the request whose first command this is, chained
	// with the command's outcome (auditride.go).
	Audit *AuditRecord `json:"audit,omitempty"`
	// rider is the proposer's side of a riding Audit: told whether the
	// chain took it.
	rider *AuditRider
	// Accel is the accelerator time the proposer's kernel calls took
	// since its last command carried any, by month; any command may
	// carry it, and every replica counts it (meter.go). Absent in an
	// entry written before it existed: no time.
	Accel []AccelUse `json:"accel,omitempty"`
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
const commandVersion = 2

// ErrBadCommand wraps every failure to decode a log entry.
var ErrBadCommand = errors.New("bad cluster command")

// Encode encodes c: a version byte, the CRC-32C of the rest, then JSON.
// The checksum catches an entry damaged on disk that the log store
// does not (raft-wal checks only the last batch it wrote).
func (c *Command) Encode() ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 5, 5+len(b))
	out[0] = commandVersion
	binary.LittleEndian.PutUint32(out[1:5], crc32.Checksum(b, castagnoli))
	return append(out, b...), nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// DecodeCommand decodes an entry written by [Command.Encode] and checks
// that it is well formed.
func DecodeCommand(b []byte) (*Command, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty entry", ErrBadCommand)
	}
	if b[0] != commandVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrBadCommand, b[0], commandVersion)
	}
	if len(b) < 5 {
		return nil, fmt.Errorf("%w: entry of %d bytes", ErrBadCommand, len(b))
	}
	if sum := crc32.Checksum(b[5:], castagnoli); sum != binary.LittleEndian.Uint32(b[1:5]) {
		return nil, fmt.Errorf("%w: checksum mismatch (the entry is damaged)", ErrBadCommand)
	}
	var c Command
	if err := json.Unmarshal(b[5:], &c); err != nil {
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
	case OpDeploy:
		if c.Deploy == nil || c.Deploy.Hash == "" || len(c.Deploy.Source) == 0 {
			return nil, fmt.Errorf("%w: deploy command without a program", ErrBadCommand)
		}
	case OpTenant:
		if c.Tenancy == nil {
			return nil, fmt.Errorf("%w: tenant command without a change", ErrBadCommand)
		}
	case OpAudit:
		if err := checkAudit(c.Audit); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadCommand, err)
		}
	case OpMeter:
		if len(c.Accel) == 0 {
			return nil, fmt.Errorf("%w: meter command without accelerator time", ErrBadCommand)
		}
	case OpErase:
		if c.Case == "" {
			return nil, fmt.Errorf("%w: erase command without a case", ErrBadCommand)
		}
	default:
		return nil, fmt.Errorf("%w: unknown op %s", ErrBadCommand, c.Op)
	}
	if c.Op != OpAudit && c.Audit != nil {
		if err := checkAudit(c.Audit); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadCommand, err)
		}
	}
	if err := checkAccel(c.Accel); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCommand, err)
	}
	return &c, nil
}
