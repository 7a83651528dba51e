// Package cmdmeta holds Redis 7.0's command metadata (what COMMAND INFO
// and COMMAND DOCS report) for walkv, as a data file generated from
// redis-server's src/commands/*.json by ./gen and embedded here.
//
// The file is derived, not copied by hand: gen computes what redis-server
// computes when it loads its table (the implicit ACL categories, the
// movablekeys flag, the legacy first/last/step key range) so that walkv
// replays the values. It covers every Redis 7.0 command and subcommand
// (sentinel-only ones excepted) plus the few later ones walkv implements
// (WAITAOF, CLIENT SETINFO, from Redis 7.2's files); walkv lists only the
// commands it registers.
//
// The data comes from Redis's source (redis-server 7.0.15 and 7.2.x, BSD
// 3-Clause license, Copyright (c) Redis Ltd. and contributors): it is the
// interface walkv must report to be compatible, kept as Redis states it.
//
// Regenerate (from a checkout of redis at tag 7.0.15, and 7.2.x for the
// extra files) with:
//
//	go run ./gen -out commands.json $REDIS70/src/commands $REDIS72/src/commands/waitaof.json $REDIS72/src/commands/client-setinfo.json
package cmdmeta

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"
)

//go:generate sh -c "go run ./gen -out commands.json $REDIS70/src/commands $REDIS72/src/commands/waitaof.json $REDIS72/src/commands/client-setinfo.json"

// Command is one command's metadata. Lists are in the order Redis
// replies them; names are lower case.
type Command struct {
	// Name is the command's full name: "get", or "config|get" for a
	// subcommand, whose Container is then "config".
	Name      string `json:"name"`
	Container string `json:"container,omitempty"`
	Arity     int    `json:"arity"`
	// Flags are COMMAND INFO's flags (hidden ones such as may_replicate
	// are in Hidden), movablekeys included when Redis computes it.
	Flags  []string `json:"flags,omitempty"`
	Hidden []string `json:"hidden,omitempty"`
	// First, Last and Step are the legacy key range (0 0 0: none).
	First int `json:"first,omitempty"`
	Last  int `json:"last,omitempty"`
	Step  int `json:"step,omitempty"`
	// ACL are the ACL categories without '@', implicit ones included.
	ACL      []string  `json:"acl,omitempty"`
	Tips     []string  `json:"tips,omitempty"`
	KeySpecs []KeySpec `json:"key_specs,omitempty"`
	// GetKeys names the Redis function that finds the keys when the key
	// specs cannot ("zunionInterDiffGetKeys"), or is empty.
	GetKeys string `json:"get_keys,omitempty"`

	// COMMAND DOCS fields.
	Summary         string      `json:"summary,omitempty"`
	Since           string      `json:"since,omitempty"`
	Group           string      `json:"group"`
	Complexity      string      `json:"complexity,omitempty"`
	DocFlags        []string    `json:"doc_flags,omitempty"`
	DeprecatedSince string      `json:"deprecated_since,omitempty"`
	ReplacedBy      string      `json:"replaced_by,omitempty"`
	History         [][2]string `json:"history,omitempty"`
	Args            []Arg       `json:"args,omitempty"`
}

// KeySpec is a key specification: where the search for keys begins
// (BeginSearch) and how keys are found from there (FindKeys).
type KeySpec struct {
	Notes string   `json:"notes,omitempty"`
	Flags []string `json:"flags"` // "RO", "access", ...
	// BeginSearch is "index" (Index), "keyword" (Keyword, StartFrom) or
	// "unknown".
	BeginSearch string `json:"bs"`
	Index       int    `json:"index,omitempty"`
	Keyword     string `json:"keyword,omitempty"`
	StartFrom   int    `json:"startfrom,omitempty"`
	// FindKeys is "range" (LastKey, KeyStep, Limit), "keynum"
	// (KeyNumIdx, FirstKey, KeyStep) or "unknown".
	FindKeys  string `json:"fk"`
	LastKey   int    `json:"lastkey,omitempty"`
	KeyStep   int    `json:"keystep,omitempty"`
	Limit     int    `json:"limit,omitempty"`
	KeyNumIdx int    `json:"keynumidx,omitempty"`
	FirstKey  int    `json:"firstkey,omitempty"`
}

// Arg is one argument of COMMAND DOCS.
type Arg struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// KeySpec is the index of the argument's key spec plus one (0: none),
	// so that the zero value means none.
	KeySpec         int      `json:"ks,omitempty"`
	Token           string   `json:"token,omitempty"`
	Since           string   `json:"since,omitempty"`
	DeprecatedSince string   `json:"deprecated_since,omitempty"`
	Flags           []string `json:"flags,omitempty"` // "optional", "multiple", "multiple_token"
	Args            []Arg    `json:"args,omitempty"`  // for "oneof" and "block"
}

//go:embed commands.json
var data []byte

var (
	once   sync.Once
	byName map[string]*Command
	subs   map[string][]*Command
)

// load parses the embedded table once; a parse error is a build defect
// (the file is generated), so it panics.
func load() {
	var cs []*Command
	if err := json.Unmarshal(data, &cs); err != nil {
		panic(fmt.Sprintf("cmdmeta: commands.json: %v", err))
	}
	byName = make(map[string]*Command, len(cs))
	subs = map[string][]*Command{}
	for _, c := range cs {
		byName[c.Name] = c
		if c.Container != "" {
			subs[c.Container] = append(subs[c.Container], c)
		}
	}
}

// Lookup returns the metadata of the command with the full name name
// (lower case, "config|get" for a subcommand), or nil. The result is
// shared: callers must not change it.
func Lookup(name string) *Command {
	once.Do(load)
	return byName[name]
}

// Subcommands returns the subcommands of container (lower case), in the
// table's order (sorted by name), or nil. The result is shared.
func Subcommands(container string) []*Command {
	once.Do(load)
	return subs[container]
}
