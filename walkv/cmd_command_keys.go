package walkv

import (
	"math"

	"github.com/waldb/wal/walkv/internal/cmdmeta"
)

// COMMAND GETKEYS and GETKEYSANDFLAGS find the key arguments of a command
// line from Redis's key specifications (cmdmeta), as redis-server 7.0
// does (getKeysFromCommandWithSpecs in db.c): the specs first; when they
// fail (a bad numkeys, an incomplete spec) or their flags vary with the
// arguments (SET ... GET, BITFIELD), the command's own key finder
// (specKeyFuncs), which may answer flags that are empty.

// keyRef is one key argument found: its index in the command line and
// its key spec flags.
type keyRef struct {
	pos   int
	flags []string
}

// cmdCommandGetkeys serves COMMAND GETKEYS and, withFlags,
// GETKEYSANDFLAGS command arg...
func cmdCommandGetkeys(x *exec, withFlags bool) {
	args := x.args[2:]
	c := lookup(args[0])
	if c == nil {
		x.c.WriteError("ERR Invalid command specified")
		return
	}
	m := metaOf(c)
	if len(args) > 1 && cmdmeta.Subcommands(c.name) != nil {
		m = lookupListed(c.name + "|" + string(args[1]))
		if m == nil || len(args[1]) == 0 {
			x.c.WriteError("ERR Invalid command specified")
			return
		}
	}
	switch {
	case !metaHasKeys(m, c):
		x.c.WriteError("ERR The command has no key arguments")
		return
	case m.Arity > 0 && m.Arity != len(args) || len(args) < -m.Arity:
		x.c.WriteError("ERR Invalid number of arguments specified for command")
		return
	}
	keys := metaKeys(m, c, args)
	if len(keys) == 0 {
		if hasFlag(m.Flags, "no_mandatory_keys") {
			x.c.WriteArray(0)
		} else {
			x.c.WriteError("ERR Invalid arguments specified for command")
		}
		return
	}
	x.c.WriteArray(len(keys))
	for _, k := range keys {
		if withFlags {
			x.c.WriteArray(2)
			x.c.WriteBulk(args[k.pos])
			x.writeFlagSet(k.flags, "")
		} else {
			x.c.WriteBulk(args[k.pos])
		}
	}
}

// metaHasKeys reports whether the command may have key arguments
// (doesCommandHaveKeys): a key finder, or a spec that is not "not_key".
// Without Redis metadata, walkv's own key positions decide.
func metaHasKeys(m *cmdmeta.Command, c *command) bool {
	if cmdmeta.Lookup(m.Name) == nil {
		return c.hasKeys()
	}
	if m.GetKeys != "" {
		return true
	}
	for i := range m.KeySpecs {
		if !hasFlag(m.KeySpecs[i].Flags, "not_key") {
			return true
		}
	}
	return false
}

func hasFlag(fs []string, f string) bool {
	for _, g := range fs {
		if g == f {
			return true
		}
	}
	return false
}

// metaKeys returns the keys of args (args[0] the command name) by m's key
// specs, or its key finder.
func metaKeys(m *cmdmeta.Command, c *command, args [][]byte) []keyRef {
	if cmdmeta.Lookup(m.Name) == nil {
		var keys []keyRef
		c.keyPositions(args, func(i int) bool {
			keys = append(keys, keyRef{pos: i})
			return true
		})
		return keys
	}
	hasSpec, varFlags := false, false
	for i := range m.KeySpecs {
		hasSpec = hasSpec || !hasFlag(m.KeySpecs[i].Flags, "not_key")
		varFlags = varFlags || hasFlag(m.KeySpecs[i].Flags, "variable_flags")
	}
	if hasSpec && !varFlags {
		if keys, ok := keysBySpecs(m.KeySpecs, args); ok {
			return keys
		}
	}
	if f := specKeyFuncs[m.GetKeys]; f != nil {
		return f(args)
	}
	return nil
}

// keysBySpecs applies the key specs to args (getKeysUsingKeySpecs); ok is
// false if a spec cannot say (unknown, out of range, incomplete).
func keysBySpecs(specs []cmdmeta.KeySpec, args [][]byte) (keys []keyRef, ok bool) {
	argc := len(args)
	for i := range specs {
		s := &specs[i]
		if hasFlag(s.Flags, "not_key") {
			continue
		}
		first := 0
		switch s.BeginSearch {
		case "index":
			first = s.Index
		case "keyword":
			first = keywordStart(s, args)
			if first == 0 {
				continue
			}
		default:
			return nil, false
		}
		var last, step int
		switch s.FindKeys {
		case "range":
			step = s.KeyStep
			switch {
			case s.LastKey >= 0:
				last = first + s.LastKey
			case s.Limit == 0:
				last = argc + s.LastKey
			default:
				last = first + ((argc-first)/s.Limit + s.LastKey)
			}
		case "keynum":
			step = s.KeyStep
			if s.KeyNumIdx >= argc || first+s.KeyNumIdx >= argc {
				return nil, false
			}
			n, isInt := parseInt(args[first+s.KeyNumIdx])
			if !isInt || n < 0 {
				return nil, false
			}
			first += s.FirstKey
			last = first + int(int32(n)) - 1 // Redis's (int) cast
		default:
			return nil, false
		}
		if last >= argc || last < first || first >= argc {
			return nil, false
		}
		for k := first; k <= last; k += max(step, 1) {
			keys = append(keys, keyRef{pos: k, flags: s.Flags})
		}
		if hasFlag(s.Flags, "incomplete") {
			return nil, false
		}
	}
	return keys, true
}

// keywordStart returns the index after the keyword of a "keyword" begin
// search, or 0 if the keyword is absent. The search runs from startfrom
// (from the end if negative) and stops before the last argument (the
// first, searching backwards).
func keywordStart(s *cmdmeta.KeySpec, args [][]byte) int {
	argc := len(args)
	start, end := s.StartFrom, argc-1
	if s.StartFrom <= 0 {
		start, end = argc+s.StartFrom, 1
	}
	for i := start; i != end; {
		if i >= argc || i < 1 {
			break
		}
		if eqFold(args[i], s.Keyword) {
			return i + 1
		}
		if start <= end {
			i++
		} else {
			i--
		}
	}
	return 0
}

// specKeyFuncs are Redis's key finders by name (the get_keys_function of
// the command's description), for the commands whose specs cannot always
// say; db.c has the originals.
var specKeyFuncs = map[string]func(args [][]byte) []keyRef{
	"sintercardGetKeys":           numkeysKeys(0, 1, 2),
	"zunionInterDiffStoreGetKeys": numkeysKeys(1, 2, 3),
	"zunionInterDiffGetKeys":      numkeysKeys(0, 1, 2),
	"evalGetKeys":                 numkeysKeys(0, 2, 3),
	"functionGetKeys":             numkeysKeys(0, 2, 3),
	"lmpopGetKeys":                numkeysKeys(0, 1, 2),
	"blmpopGetKeys":               numkeysKeys(0, 2, 3),
	"zmpopGetKeys":                numkeysKeys(0, 1, 2),
	"bzmpopGetKeys":               numkeysKeys(0, 2, 3),
	"setGetKeys":                  setKeys,
	"bitfieldGetKeys":             bitfieldKeys,
	"sortROGetKeys": func([][]byte) []keyRef {
		return []keyRef{{pos: 1, flags: []string{"RO", "access"}}}
	},
	"sortGetKeys":      sortKeys,
	"georadiusGetKeys": georadiusKeys,
	"xreadGetKeys":     xreadKeys,
	"migrateGetKeys":   migrateKeys,
}

// numkeysKeys returns the finder of a command with numkeys at countAt,
// keys from firstAt on and an optional destination at storeAt (0: none)
// (genericGetKeys). numkeys is read with C's atoi: leading digits count.
func numkeysKeys(storeAt, countAt, firstAt int) func([][]byte) []keyRef {
	return func(args [][]byte) []keyRef {
		if countAt >= len(args) {
			return nil // shorter than the arity allows: GETKEYS refused it
		}
		n := cAtoi(args[countAt])
		if n < 1 || n > (len(args)-firstAt) {
			return nil
		}
		keys := make([]keyRef, 0, n+1)
		for i := range n {
			keys = append(keys, keyRef{pos: firstAt + i})
		}
		if storeAt > 0 {
			keys = append(keys, keyRef{pos: storeAt})
		}
		return keys
	}
}

// cAtoi is C's atoi as glibc implements it: (int)strtol(s, NULL, 10):
// leading white space, a sign, the digits that follow; saturated to a
// long, then truncated to 32 bits.
func cAtoi(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] >= '\t' && b[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var v uint64
	over := false
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := uint64(b[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			over = true
			continue
		}
		v = v*10 + d
	}
	var l int64
	switch {
	case !neg && (over || v > math.MaxInt64):
		l = math.MaxInt64
	case neg && (over || v > 1<<63):
		l = math.MinInt64
	case neg:
		l = -int64(v)
	default:
		l = int64(v)
	}
	return int(int32(l))
}

// setKeys: SET's key is RW when a GET argument follows the value.
func setKeys(args [][]byte) []keyRef {
	for _, a := range args[min(3, len(args)):] {
		if eqFold(a, "get") {
			return []keyRef{{pos: 1, flags: []string{"RW", "access", "update"}}}
		}
	}
	return []keyRef{{pos: 1, flags: []string{"OW", "update"}}}
}

// bitfieldKeys: BITFIELD's key is read-only if only GET and OVERFLOW
// operations (with their arguments) follow.
func bitfieldKeys(args [][]byte) []keyRef {
	readonly := true
	for i := 2; i < len(args); i++ {
		rem := len(args) - i - 1
		switch a := args[i]; {
		case eqFold(a, "get") && rem >= 2:
			i += 2
		case (eqFold(a, "set") || eqFold(a, "incrby")) && rem >= 3:
			readonly = false
			i = len(args)
		case eqFold(a, "overflow") && rem >= 1:
			i++
		default:
			readonly = false
			i = len(args)
		}
	}
	if readonly {
		return []keyRef{{pos: 1, flags: []string{"RO", "access"}}}
	}
	return []keyRef{{pos: 1, flags: []string{"RW", "access", "update"}}}
}

// sortKeys: SORT's key, and the destination of its last STORE.
func sortKeys(args [][]byte) []keyRef {
	keys := []keyRef{{pos: 1, flags: []string{"RO", "access"}}}
	store := 0
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case eqFold(a, "limit"):
			i += 2
		case eqFold(a, "get"), eqFold(a, "by"):
			i++
		case eqFold(a, "store") && i+1 < len(args):
			store = i + 1
		}
	}
	if store > 0 {
		keys = append(keys, keyRef{pos: store, flags: []string{"OW", "update"}})
	}
	return keys
}

// georadiusKeys: the key, and the last STORE or STOREDIST destination.
func georadiusKeys(args [][]byte) []keyRef {
	keys := []keyRef{{pos: 1}}
	store := -1
	for i := 5; i < len(args); i++ {
		if (eqFold(args[i], "store") || eqFold(args[i], "storedist")) && i+1 < len(args) {
			store = i + 1
			i++
		}
	}
	if store > 0 {
		keys = append(keys, keyRef{pos: store})
	}
	return keys
}

// xreadKeys: the first half of the arguments after STREAMS.
func xreadKeys(args [][]byte) []keyRef {
	streams := -1
loop:
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case eqFold(a, "block"), eqFold(a, "count"):
			i++
		case eqFold(a, "group"):
			i += 2
		case eqFold(a, "noack"):
		case eqFold(a, "streams"):
			streams = i
			break loop
		default:
			break loop
		}
	}
	if streams < 0 {
		return nil
	}
	n := len(args) - streams - 1
	if n == 0 || n%2 != 0 {
		return nil
	}
	var keys []keyRef
	for i := streams + 1; i < len(args)-n/2; i++ {
		keys = append(keys, keyRef{pos: i})
	}
	return keys
}

// migrateKeys: the key argument, or the keys after KEYS when the key
// argument is empty.
func migrateKeys(args [][]byte) []keyRef {
	first, num := 3, 1
	if len(args) > 6 {
	loop:
		for i := 6; i < len(args); i++ {
			switch a := args[i]; {
			case eqFold(a, "keys"):
				if len(args[3]) > 0 {
					num = 0
				} else {
					first, num = i+1, len(args)-i-1
				}
				break loop
			case eqFold(a, "auth"):
				i++
			case eqFold(a, "auth2"):
				i += 2
			}
		}
	}
	var keys []keyRef
	for i := range num {
		keys = append(keys, keyRef{pos: first + i, flags: []string{"RW", "access", "delete"}})
	}
	return keys
}
