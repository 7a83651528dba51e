package walkv

import (
	"sort"

	"github.com/tidwall/redcon"
)

// lockMode says which DB lock the dispatcher holds around a command.
type lockMode uint8

const (
	// lockNone: the command does not touch the keyspace (or takes the
	// lock itself, and is then flagged noMulti or multiCtl).
	lockNone lockMode = iota
	// lockRead: the command reads the keyspace.
	lockRead
	// lockWrite: the command may change the keyspace; it gets a tx, and
	// its operations are logged as one transaction.
	lockWrite
)

// cmdFlags describe a command.
type cmdFlags uint16

const (
	flagWrite    cmdFlags = 1 << iota // changes data
	flagReadonly                      // reads data only
	flagAdmin                         // server administration
	flagFast                          // O(1) or O(log n)
	flagNoMulti                       // refused inside MULTI
	flagMultiCtl                      // runs at once even inside MULTI
	flagProtect                       // refused unless enable-debug-command allows it (DEBUG, cmd_debug.go)
)

// flagNames are the COMMAND reply's names of the flags, in bit order.
var flagNames = []string{"write", "readonly", "admin", "fast", "no_multi", "", ""}

// command is an entry of the command table.
type command struct {
	name  string
	arity int // Redis convention: n exact, -n at least n (name included)
	flags cmdFlags
	lock  lockMode
	// first, last and step locate the key arguments (COMMAND's key
	// specification; last -1 means the last argument).
	first, last, step int
	run               func(x *exec)
	// cats adds ACL categories to those derived from flags and name
	// (see command.categories); usually zero.
	cats aclCat
	// keys, if set, returns the key argument indexes for commands whose
	// keys first, last and step cannot describe; ACL key checks use it.
	keys func(args [][]byte) []int
	// id indexes the DB's per-command counters (cmdstats.go); set by
	// register.
	id int
}

func (c *command) has(f cmdFlags) bool { return c.flags&f != 0 }

func (c *command) arityOK(n int) bool {
	if c.arity >= 0 {
		return n == c.arity
	}
	return n >= -c.arity
}

// commands is the command table, keyed by lower-case name; it is filled
// by init functions of the cmd_*.go files and never changed afterwards.
var commands = map[string]*command{}

func register(cs ...*command) {
	for _, c := range cs {
		if old := commands[c.name]; old != nil {
			c.id = old.id
		} else {
			c.id = len(commandList)
			commandList = append(commandList, nil)
		}
		commandList[c.id] = c
		commands[c.name] = c
	}
}

// lookup finds the command named by b in any case, without allocating.
func lookup(b []byte) *command {
	var buf [32]byte
	if len(b) > len(buf) {
		return nil
	}
	low := buf[:len(b)]
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	return commands[string(low)]
}

// sortedCommands returns the table sorted by name.
func sortedCommands() []*command {
	cs := make([]*command, 0, len(commands))
	for _, c := range commands {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	return cs
}

// exec is the context of one command execution.
type exec struct {
	srv  *Server
	db   *DB
	s    *session
	c    redcon.Conn
	args [][]byte
	t    *tx   // set for lockWrite commands (and all commands in EXEC)
	now  int64 // Unix ms, read once per command or EXEC

	// reap holds the keys found expired under the read lock (lazyexpire.go).
	reap []string
	dbi  int // the database the command runs in (see databases.go)
}

// key returns argument i as a key.
func (x *exec) key(i int) string { return string(x.args[i]) }

// live returns the item of key unless absent or expired; an expired key
// is removed (see sawExpired).
func (x *exec) live(key string) *item {
	it := x.ks().lookup(key)
	if it != nil && it.expired(x.now) {
		x.sawExpired(it)
		return nil
	}
	return it
}

// apply applies the planned operations, replying the error and returning
// false if they cannot be logged.
func (x *exec) apply() bool {
	if err := x.t.apply(x.dbi); err != nil {
		x.c.WriteError(err.Error())
		return false
	}
	return true
}

// writeStrings writes an array of bulk strings.
func (x *exec) writeStrings(ss []string) {
	x.c.WriteArray(len(ss))
	for _, s := range ss {
		x.c.WriteBulkString(s)
	}
}
