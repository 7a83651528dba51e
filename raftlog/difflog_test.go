package raftlog

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/raft"
)

// diffLog names the first field in which got differs from want, or "".
func diffLog(want, got *raft.Log) string {
	switch {
	case got.Index != want.Index:
		return fmt.Sprintf("index %d, want %d", got.Index, want.Index)
	case got.Term != want.Term:
		return fmt.Sprintf("term %d, want %d", got.Term, want.Term)
	case got.Type != want.Type:
		return fmt.Sprintf("type %v, want %v", got.Type, want.Type)
	case !bytes.Equal(got.Data, want.Data):
		return fmt.Sprintf("data %q, want %q", got.Data, want.Data)
	case !bytes.Equal(got.Extensions, want.Extensions):
		return fmt.Sprintf("extensions %q, want %q", got.Extensions, want.Extensions)
	case !got.AppendedAt.Equal(want.AppendedAt):
		return fmt.Sprintf("appended-at %v, want %v", got.AppendedAt, want.AppendedAt)
	}
	return ""
}
