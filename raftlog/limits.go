package raftlog

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/waldb/wal"
)

// ErrProposalTooLarge: Propose was given more data than one log entry
// holds (MaxProposalBytes). The entry was not appended: the failure is
// definite, and leadership is unaffected.
var ErrProposalTooLarge = errors.New("raftlog: proposal larger than a log entry holds")

// maxEntryFraming bounds what raft's entry adds to the proposed data in
// the store's encoding (see EncodedLen): the fixed header, index, term,
// AppendedAt, and room for Extensions.
const maxEntryFraming = entryFixed + 4*binary.MaxVarintLen64 + 4<<10

// MaxProposalBytes is the largest data Propose accepts: a Node's store
// uses the log's default MaxEntrySize.
func MaxProposalBytes() int { return wal.DefaultMaxEntrySize - maxEntryFraming }

// checkProposal refuses data that cannot fit one entry, before raft
// sees it: a leader whose log write fails steps down.
func checkProposal(data []byte) error {
	if len(data) > MaxProposalBytes() {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrProposalTooLarge, len(data), MaxProposalBytes())
	}
	return nil
}
