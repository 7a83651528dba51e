package walkv

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Access control
//
// walkv follows Redis 6+'s ACL model. A connection starts as the user
// "default"; it is authenticated at once if that user is on and has
// nopass (the initial state, unless Requirepass or an ACL file says
// otherwise), else every command but AUTH, HELLO and QUIT is refused
// with NOAUTH until AUTH (or HELLO ... AUTH) succeeds. requirepass is the
// default user's password: setting it is "resetpass >password".
//
// A user has passwords (only their SHA-256 digests are kept, compared in
// constant time), a set of allowed commands built by rules applied in
// order (+@all, -@admin, +get, -flushall, ...) over command categories,
// and key patterns (~pattern for read and write, %R~ and %W~ for one of
// them). A command is allowed if the user may run it and, for every key
// argument (the command's key positions), has a pattern matching the key
// with the access the command needs: read for read-only commands, write
// for write commands, both otherwise. Refusals reply NOPERM, are counted
// in INFO (acl_access_denied_*) and recorded in ACL LOG; failed AUTH
// attempts are counted, logged (Options.Logger) and recorded too.
//
// Categories are derived from a command's flags, so a newly registered
// command gets sensible ones without an entry here: write -> @write,
// readonly -> @read, admin -> @admin and @dangerous, fast -> @fast, else
// @slow; the name tables below add the data-type categories and
// @dangerous for the commands Redis marks so; command.cats adds more.

// aclCat is a set of ACL categories.
type aclCat uint32

const (
	catKeyspace aclCat = 1 << iota
	catRead
	catWrite
	catSet
	catSortedSet
	catList
	catHash
	catString
	catBitmap
	catHyperLogLog
	catGeo
	catStream
	catPubsub
	catAdmin
	catFast
	catSlow
	catBlocking
	catDangerous
	catConnection
	catTransaction
	catScripting
)

// catNames are the categories' names, in bit order.
var catNames = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
	"dangerous", "connection", "transaction", "scripting"}

// catByName returns the category named s (without '@'), or 0.
func catByName(s string) aclCat {
	for i, n := range catNames {
		if strings.EqualFold(n, s) {
			return 1 << i
		}
	}
	return 0
}

// nameCats are categories by command name that the flags do not give:
// Redis's data-type, connection and transaction categories, and
// @dangerous for commands that are not admin but are dangerous.
var nameCats = func() map[string]aclCat {
	m := map[string]aclCat{}
	add := func(c aclCat, names string) {
		for _, n := range strings.Fields(names) {
			m[n] |= c
		}
	}
	add(catString, "get set getset append strlen incr decr incrby decrby incrbyfloat mget mset msetnx setnx setex psetex getdel getex getrange setrange substr lcs")
	add(catHash, "hset hsetnx hget hmset hmget hdel hgetall hlen hexists hkeys hvals hincrby hincrbyfloat hstrlen hrandfield hscan")
	add(catList, "lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset lrem ltrim linsert lpos lmove blmove blpop brpop brpoplpush rpoplpush lmpop blmpop")
	add(catSet, "sadd srem smembers sismember smismember scard spop srandmember smove sinter sinterstore sintercard sunion sunionstore sdiff sdiffstore sscan")
	add(catSortedSet, "zadd zrem zcard zcount zscore zmscore zincrby zrank zrevrank zrange zrangestore zrevrange zrangebyscore zrevrangebyscore zrangebylex zrevrangebylex zlexcount zremrangebyrank zremrangebyscore zremrangebylex zpopmin zpopmax bzpopmin bzpopmax zmpop bzmpop zunion zunionstore zinter zinterstore zintercard zdiff zdiffstore zrandmember zscan")
	add(catKeyspace, "del unlink exists type keys scan dbsize expire pexpire expireat pexpireat expiretime pexpiretime ttl pttl persist rename renamenx randomkey touch copy move object dump restore flushdb flushall")
	add(catConnection, "ping echo select quit hello client auth reset")
	add(catTransaction, "multi exec discard watch unwatch")
	add(catBlocking, "blpop brpop brpoplpush blmove blmpop bzpopmin bzpopmax bzmpop")
	add(catDangerous, "flushall flushdb keys debug shutdown config cluster save bgsave bgrewriteaof acl info lastsave sort migrate restore replicaof slaveof swapdb monitor role failover module latency slowlog")
	add(catAdmin, "acl")
	add(catBitmap, "getbit setbit bitcount bitpos bitop bitfield bitfield_ro")
	add(catAdmin, "lastsave")
	add(catConnection, "command")
	return m
}()

// categories returns the ACL categories of c (see Access control above).
func (c *command) categories() aclCat {
	cats := c.cats | nameCats[c.name]
	if c.has(flagWrite) {
		cats |= catWrite
	}
	if c.has(flagReadonly) {
		cats |= catRead
	}
	if c.has(flagAdmin) {
		cats |= catAdmin | catDangerous
	}
	if c.has(flagFast) {
		cats |= catFast
	} else {
		cats |= catSlow
	}
	return cats
}

// aclSubcommands are the subcommands that ACL rules name on their own
// ("acl|whoami"): commands whose subcommands differ in danger. The
// categories are Redis's.
var aclSubcommands = map[string]aclCat{
	"acl|whoami":   catSlow,
	"acl|cat":      catSlow,
	"config|get":   catAdmin | catSlow | catDangerous,
	"cluster|info": catSlow,
}

// subcommandRules are the commands with entries in aclSubcommands.
var subcommandRules = func() map[string]bool {
	m := map[string]bool{}
	for n := range aclSubcommands {
		base, _, _ := strings.Cut(n, "|")
		m[base] = true
	}
	return m
}()

// keyPattern is a user's key pattern with the access it grants.
type keyPattern struct {
	pat         string
	read, write bool
}

// aclPerms is one immutable version of a user's settings; ACL SETUSER
// replaces it whole (see aclUser).
type aclPerms struct {
	enabled bool
	deleted bool // DELUSER ran: connections authenticated as it close
	nopass  bool
	hashes  [][sha256.Size]byte
	cmds    map[string]bool // command or subcommand name -> allowed
	allCmds bool            // every command allowed (fast path)
	rules   []string        // command rules since the last reset, for ACL LIST
	allKeys bool            // ~* (fast path)
	keys    []keyPattern
}

// aclUser is a user; sessions hold it and load its current perms for
// every command, so a change applies to connections already
// authenticated as it, as in Redis.
type aclUser struct {
	name string
	p    atomic.Pointer[aclPerms]
}

func (u *aclUser) perms() *aclPerms { return u.p.Load() }

// aclLogEntry is one ACL LOG entry.
type aclLogEntry struct {
	count               int64
	reason, ctx, object string
	user, client        string
	first, last         time.Time
}

// maxACLLog bounds ACL LOG's memory.
const maxACLLog = 128

// aclStore is the server's user table and its refusal statistics.
type aclStore struct {
	mu    sync.Mutex
	users map[string]*aclUser // guarded by mu
	log   []aclLogEntry       // newest first; guarded by mu
	def   *aclUser            // "default", never deleted

	deniedAuth, deniedCmd, deniedKey atomic.Int64
}

// newACLStore returns a table with the default user: on, nopass, every
// command and key.
func newACLStore() *aclStore {
	a := &aclStore{users: map[string]*aclUser{}}
	a.def = &aclUser{name: "default"}
	p, _ := parseRules(nil, strings.Fields("on nopass ~* &* +@all"))
	a.def.p.Store(p)
	a.users["default"] = a.def
	return a
}

// hashPassword is the stored form of a password.
func hashPassword(pw string) [sha256.Size]byte { return sha256.Sum256([]byte(pw)) }

// check reports whether pw is one of p's passwords, comparing digests in
// constant time and trying every stored one.
func (p *aclPerms) check(pw string) bool {
	if !p.enabled {
		return false
	}
	if p.nopass {
		return true
	}
	h := hashPassword(pw)
	ok := 0
	for i := range p.hashes {
		ok |= subtle.ConstantTimeCompare(h[:], p.hashes[i][:])
	}
	return ok == 1
}

// errACLRule is the ACL SETUSER error for a bad rule.
var errACLRule = errors.New("syntax error")

// parseRules applies rules to a copy of base (a fresh user if nil) and
// returns the result.
func parseRules(base *aclPerms, rules []string) (*aclPerms, error) {
	p := &aclPerms{cmds: map[string]bool{}}
	if base != nil {
		cp := *base
		cp.hashes = slices.Clone(base.hashes)
		cp.rules = slices.Clone(base.rules)
		cp.keys = slices.Clone(base.keys)
		cp.cmds = make(map[string]bool, len(base.cmds))
		for k, v := range base.cmds {
			cp.cmds[k] = v
		}
		p = &cp
	}
	for _, r := range rules {
		if err := p.apply(r); err != nil {
			//lint:ignore ST1005 Redis's reply text, sent to clients verbatim
			return nil, fmt.Errorf("Error in ACL SETUSER modifier '%s': %w", clip(r), err)
		}
	}
	return p, nil
}

// apply applies one rule.
func (p *aclPerms) apply(r string) error {
	low := strings.ToLower(r)
	switch {
	case low == "on":
		p.enabled = true
	case low == "off":
		p.enabled = false
	case low == "nopass":
		p.nopass, p.hashes = true, nil
	case low == "resetpass":
		p.nopass, p.hashes = false, nil
	case low == "reset":
		*p = aclPerms{cmds: map[string]bool{}}
	case low == "allkeys":
		return p.apply("~*")
	case low == "resetkeys":
		p.allKeys, p.keys = false, nil
	case low == "allchannels", low == "resetchannels", strings.HasPrefix(r, "&"):
		// no Pub/Sub: channel rules are accepted and have no effect
	case low == "allcommands":
		return p.apply("+@all")
	case low == "nocommands":
		return p.apply("-@all")
	case r != "" && (r[0] == '>' || r[0] == '<'):
		return p.password(r[0], hashPassword(r[1:]))
	case r != "" && (r[0] == '#' || r[0] == '!'):
		h, err := hex.DecodeString(r[1:])
		if err != nil || len(h) != sha256.Size {
			//lint:ignore ST1005 Redis's reply text, sent to clients verbatim
			return errors.New("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
		}
		op := byte('>')
		if r[0] == '!' {
			op = '<'
		}
		return p.password(op, [sha256.Size]byte(h))
	case r != "" && r[0] == '~':
		return p.addKeys(r[1:], true, true)
	case strings.HasPrefix(r, "%"):
		return p.keyRule(r)
	case r != "" && (r[0] == '+' || r[0] == '-'):
		return p.command(r[0] == '+', strings.ToLower(r[1:]))
	default:
		return errACLRule
	}
	return nil
}

// password adds ('>') or removes ('<') a password digest.
func (p *aclPerms) password(op byte, h [sha256.Size]byte) error {
	i := slices.Index(p.hashes, h)
	switch {
	case op == '>' && i < 0:
		p.hashes = append(p.hashes, h)
		p.nopass = false
	case op == '<' && i < 0:
		return errors.New("no such password")
	case op == '<':
		p.hashes = slices.Delete(p.hashes, i, i+1)
	}
	return nil
}

// keyRule parses %R~pat, %W~pat and %RW~pat.
func (p *aclPerms) keyRule(r string) error {
	mode, pat, ok := strings.Cut(r[1:], "~")
	if !ok || mode == "" {
		return errACLRule
	}
	var read, write bool
	for _, m := range strings.ToUpper(mode) {
		switch m {
		case 'R':
			read = true
		case 'W':
			write = true
		default:
			return errACLRule
		}
	}
	return p.addKeys(pat, read, write)
}

func (p *aclPerms) addKeys(pat string, read, write bool) error {
	if pat == "*" && read && write {
		p.allKeys = true
	}
	p.keys = append(p.keys, keyPattern{pat: pat, read: read, write: write})
	return nil
}

// command applies +name, -name, +@cat or -@cat.
func (p *aclPerms) command(allow bool, name string) error {
	sign := "-"
	if allow {
		sign = "+"
	}
	if cat, ok := strings.CutPrefix(name, "@"); ok {
		if cat == "all" {
			p.cmds, p.rules = map[string]bool{}, nil
			for n := range commands {
				p.cmds[n] = allow
			}
			for n := range aclSubcommands {
				p.cmds[n] = allow
			}
			p.rules = append(p.rules, sign+"@all")
			p.allCmds = allow
			return nil
		}
		c := catByName(cat)
		if c == 0 {
			//lint:ignore ST1005 Redis's reply text, sent to clients verbatim
			return errors.New("Unknown command or category name in ACL")
		}
		for n, cmd := range commands {
			if cmd.categories()&c != 0 {
				p.set(n, allow)
			}
		}
		for n, cats := range aclSubcommands {
			if cats&c != 0 {
				p.set(n, allow)
			}
		}
	} else {
		base, _, _ := strings.Cut(name, "|")
		if commands[base] == nil {
			//lint:ignore ST1005 Redis's reply text, sent to clients verbatim
			return errors.New("Unknown command or category name in ACL")
		}
		p.set(name, allow)
		if !strings.Contains(name, "|") {
			for n := range aclSubcommands {
				if strings.HasPrefix(n, name+"|") {
					p.set(n, allow)
				}
			}
		}
	}
	p.rules = append(p.rules, sign+name)
	return nil
}

// set allows or denies one command name and keeps the fast path honest.
func (p *aclPerms) set(name string, allow bool) {
	p.cmds[name] = allow
	if !allow {
		p.allCmds = false
	}
}

// allows reports whether p may run cmd with args (the subcommand rule, if
// any, decides for commands listed in aclSubcommands).
func (p *aclPerms) allows(cmd *command, args [][]byte) bool {
	if p.allCmds {
		return true
	}
	if len(args) > 1 && len(args[1]) < 32 && subcommandRules[cmd.name] {
		if name := cmd.name + "|" + strings.ToLower(string(args[1])); aclSubcommands[name] != 0 {
			return p.cmds[name]
		}
	}
	return p.cmds[cmd.name]
}

// keyAllowed reports whether p may access key with the access cmd needs.
func (p *aclPerms) keyAllowed(cmd *command, key []byte) bool {
	if p.allKeys {
		return true
	}
	needR := !cmd.has(flagWrite)
	needW := !cmd.has(flagReadonly)
	k := string(key)
	var r, w bool
	for _, kp := range p.keys {
		if (kp.read && !r || kp.write && !w) && globMatch(kp.pat, k) {
			r, w = r || kp.read, w || kp.write
		}
	}
	return (r || !needR) && (w || !needW)
}

// keyPositions calls fn with the index of every key argument of cmd in
// args (first, last and step; last -1 is the last argument, -2 the one
// before it, and so on) until fn returns false.
func (c *command) keyPositions(args [][]byte, fn func(i int) bool) {
	if c.keys != nil {
		for _, i := range c.keys(args) {
			if i > 0 && i < len(args) && !fn(i) {
				return
			}
		}
		return
	}
	if c.first <= 0 {
		return
	}
	last := c.last
	if last < 0 {
		last = len(args) + last
	}
	step := max(c.step, 1)
	for i := c.first; i <= last && i < len(args); i += step {
		if !fn(i) {
			return
		}
	}
}

// describe renders the user's rules as ACL LIST does.
func (u *aclUser) describe() string {
	p := u.perms()
	var b strings.Builder
	b.WriteString("user " + u.name)
	if p.enabled {
		b.WriteString(" on")
	} else {
		b.WriteString(" off")
	}
	if p.nopass {
		b.WriteString(" nopass")
	}
	for _, h := range p.hashes {
		b.WriteString(" #" + hex.EncodeToString(h[:]))
	}
	for _, k := range p.keys {
		b.WriteString(" " + k.rule())
	}
	b.WriteString(" &*")
	if len(p.rules) == 0 {
		b.WriteString(" -@all")
	}
	for _, r := range p.rules {
		b.WriteString(" " + r)
	}
	return b.String()
}

func (k keyPattern) rule() string {
	switch {
	case k.read && k.write:
		return "~" + k.pat
	case k.read:
		return "%R~" + k.pat
	}
	return "%W~" + k.pat
}

// user returns the user named name, or nil.
func (a *aclStore) user(name string) *aclUser {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.users[name]
}

// setUser applies rules to user name, creating it (off, no password, no
// commands, no keys) if absent.
func (a *aclStore) setUser(name string, rules []string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.users[name]
	var base *aclPerms
	if u != nil {
		base = u.perms()
	}
	p, err := parseRules(base, rules)
	if err != nil {
		return err
	}
	if u == nil {
		u = &aclUser{name: name}
		a.users[name] = u
	}
	u.p.Store(p)
	return nil
}

// delUser deletes the named users (not default) and returns how many
// existed.
func (a *aclStore) delUser(names []string) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, name := range names {
		if name == "default" {
			//lint:ignore ST1005 Redis's reply text, sent to clients verbatim
			return 0, errors.New("The 'default' user cannot be removed")
		}
	}
	for _, name := range names {
		if u := a.users[name]; u != nil {
			cp := *u.perms()
			cp.deleted, cp.enabled = true, false
			u.p.Store(&cp)
			delete(a.users, name)
			n++
		}
	}
	return n, nil
}

// names returns the user names, sorted.
func (a *aclStore) names() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	ns := make([]string, 0, len(a.users))
	for n := range a.users {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// record adds a refusal to ACL LOG, merging it with an equal recent one.
func (a *aclStore) record(reason, ctx, object, user, client string) {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.log {
		e := &a.log[i]
		if e.reason == reason && e.ctx == ctx && e.object == object && e.user == user && now.Sub(e.last) < time.Minute {
			e.count++
			e.last = now
			e.client = client
			return
		}
	}
	a.log = slices.Insert(a.log, 0, aclLogEntry{count: 1, reason: reason, ctx: ctx, object: object,
		user: user, client: client, first: now, last: now})
	if len(a.log) > maxACLLog {
		a.log = a.log[:maxACLLog]
	}
}

// load replaces the users by those of an ACL file: lines "user <name>
// <rules>...", '#' comments and blank lines. The default user keeps its
// settings unless the file defines it. Nothing changes on error.
func (a *aclStore) load(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("walkv: aclfile: %w", err)
	}
	users := map[string]*aclPerms{}
	for n, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if f[0] != "user" || len(f) < 2 {
			return fmt.Errorf("%w: aclfile %s:%d: want \"user <name> <rules>...\"", ErrInvalidOption, path, n+1)
		}
		p, err := parseRules(users[f[1]], f[2:])
		if err != nil {
			return fmt.Errorf("%w: aclfile %s:%d: %v", ErrInvalidOption, path, n+1, err)
		}
		users[f[1]] = p
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for name, u := range a.users {
		if name != "default" {
			cp := *u.perms()
			cp.deleted, cp.enabled = true, false
			u.p.Store(&cp)
			delete(a.users, name)
		}
	}
	for name, p := range users {
		if name == "default" {
			a.def.p.Store(p)
			continue
		}
		u := &aclUser{name: name}
		u.p.Store(p)
		a.users[name] = u
	}
	return nil
}
