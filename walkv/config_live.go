package walkv

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// configStore holds the values of the parameters walkv does not honour
// and serializes CONFIG SETs, so that a SET of several parameters is
// atomic with respect to other SETs.
type configStore struct {
	once sync.Once
	mu   sync.Mutex
	vals map[string]string // canonical name → canonical value; guarded by mu
	// memClients is maxmemory-clients as set: bytes, or minus a
	// percentage of maxmemory; guarded by mu.
	memClients int64
	// out is client-output-buffer-limit by class ("<hard> <soft>
	// <seconds>", as set: the limits take them clamped to int64); guarded
	// by mu.
	out map[string]string
}

// conf returns the server's configuration store, initialized on first
// use.
func (srv *Server) conf() *configStore {
	c := &srv.cfgStore
	c.once.Do(func() {
		c.vals = map[string]string{}
		for _, p := range redisParams {
			if _, live := liveParams[p.name]; !live {
				c.vals[p.name] = p.def
			}
		}
		for k, v := range walkvDefaults {
			c.vals[k] = v
		}
		c.memClients = srv.cfg.MaxMemoryClients
		c.out = map[string]string{"slave": "268435456 67108864 60"}
		for i, class := range []string{"normal", "pubsub"} {
			o := srv.lim.out[i].Load()
			c.out[class] = fmt.Sprintf("%d %d %d", o.Hard, o.Soft, int64(o.SoftFor/time.Second))
		}
	})
	return c
}

// walkvDefaults are the start values of parameters walkv keeps but does
// not honour where walkv's differ from Redis's defaults.
var walkvDefaults = map[string]string{
	"save": "", // walkv snapshots by log size (walkv-snapshot-log-bytes)
}

// paramSet is one pair of CONFIG SET.
type paramSet struct {
	key   string // the name or alias looked up (lower case), for errors
	p     *param
	value string
}

// get returns p's current value.
func (c *configStore) get(srv *Server, p *param) string {
	if lp, ok := liveParams[p.name]; ok {
		c.mu.Lock()
		defer c.mu.Unlock()
		return lp.get(srv)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.vals[p.name]
}

// set validates every pair, then applies them all; it returns the error
// reply of the first bad value (nothing applied), or "".
func (c *configStore) set(srv *Server, sets []paramSet) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	vals := make([]string, len(sets))
	for i, s := range sets {
		lp, live := liveParams[s.p.name]
		cur := c.vals[s.p.name]
		if live {
			cur = lp.get(srv)
		}
		v, why := parseParam(s.p, s.value, cur)
		if why == "" && live && lp.check != nil {
			why = lp.check(srv, v)
		}
		if why != "" {
			return setFailed(s.key, why)
		}
		if fix := paramFixups[s.p.name]; fix != nil {
			v = fix(v)
		}
		vals[i] = v
	}
	for i, s := range sets {
		if lp, ok := liveParams[s.p.name]; ok {
			lp.set(srv, vals[i])
		} else {
			c.vals[s.p.name] = vals[i]
		}
	}
	return ""
}

// paramFixups adjust accepted values as Redis's apply functions do.
var paramFixups = map[string]func(string) string{
	// Redis caps hz, "a hint from the user", to 1..500.
	"hz": func(v string) string { return strconv.FormatInt(min(max(mustInt(v), 1), 500), 10) },
	// The replication backlog has at least 16 KiB.
	"repl-backlog-size": func(v string) string { return strconv.FormatInt(max(mustInt(v), 16<<10), 10) },
}

// liveParam is a parameter walkv honours: get reads the server's state,
// check refuses a value Redis accepts but walkv cannot take (or returns
// ""), set changes the state to an accepted canonical value. All run
// with configStore.mu held.
type liveParam struct {
	get   func(srv *Server) string
	check func(srv *Server, v string) string
	set   func(srv *Server, v string)
}

// fixedParam is a parameter walkv reports but cannot change at run time:
// setting it to its current value is accepted.
func fixedParam(get func(srv *Server) string, why string) liveParam {
	return liveParam{
		get: get,
		check: func(srv *Server, v string) string {
			if v != get(srv) {
				return why
			}
			return ""
		},
		set: func(*Server, string) {},
	}
}

// intParam is a numeric parameter kept in the server's limits.
func intParam(get func(srv *Server) int64, set func(srv *Server, n int64)) liveParam {
	return liveParam{
		get: func(srv *Server) string { return strconv.FormatInt(get(srv), 10) },
		set: func(srv *Server, v string) {
			n, _ := strconv.ParseInt(v, 10, 64)
			set(srv, n)
		},
	}
}

// mustInt parses a canonical value that parseParam produced.
func mustInt(v string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSuffix(v, "%"), 10, 64)
	return n
}

// liveParams are the parameters walkv honours, by canonical name.
var liveParams = map[string]liveParam{
	"appendfsync": {
		get: func(srv *Server) string { return srv.db.Fsync().String() },
		set: func(srv *Server, v string) {
			f, _ := ParseFsync(v)
			srv.db.SetFsync(f)
		},
	},
	"appendonly": fixedParam(func(*Server) string { return "yes" },
		"walkv logs every write: appendonly can't be turned off"),
	"databases": fixedParam(func(*Server) string { return strconv.Itoa(numDBs) }, ""),
	"proto-max-bulk-len": fixedParam(func(srv *Server) string { return strconv.Itoa(srv.db.opts.MaxBulk) },
		"walkv sets proto-max-bulk-len at start only (its maximum is 536870912)"),
	"walkv-snapshot-log-bytes": fixedParam(func(srv *Server) string { return strconv.FormatInt(srv.db.opts.SnapshotLogBytes, 10) }, ""),
	"maxmemory-policy": fixedParam(func(*Server) string { return "noeviction" },
		"walkv supports only noeviction: it never evicts durable data"),
	"port": fixedParam(func(srv *Server) string { return strconv.Itoa(srv.cfg.Port) },
		"walkv can't change its listening port at run time"),
	"bind": fixedParam(func(srv *Server) string {
		host, _, err := net.SplitHostPort(srv.Addr().String())
		if err != nil {
			return ""
		}
		return host
	}, "walkv can't change its listening addresses at run time"),
	"dir": fixedParam(func(srv *Server) string {
		d, err := filepath.Abs(srv.db.dir)
		if err != nil {
			return srv.db.dir
		}
		return d
	}, ""),
	"aclfile": fixedParam(func(srv *Server) string { return srv.cfg.ACLFile }, ""),
	"requirepass": {
		get: func(srv *Server) string {
			if p := srv.acl.def.perms(); !p.nopass && len(p.hashes) > 0 {
				return "#" + hexString(p.hashes[0][:]) // only the digest is kept
			}
			return ""
		},
		set: func(srv *Server, v string) {
			rules := []string{"resetpass", ">" + v}
			if v == "" {
				rules = []string{"nopass"}
			}
			if err := srv.acl.setUser("default", rules); err != nil {
				srv.db.opts.Logger.Error("walkv: CONFIG SET requirepass", "err", err)
			}
		},
	},
	"protected-mode": {
		get: func(srv *Server) string { return yesNo(srv.lim.protected.Load()) },
		set: func(srv *Server, v string) { srv.lim.protected.Store(v == "yes") },
	},
	"maxclients": intParam(func(srv *Server) int64 { return srv.lim.maxClients.Load() },
		func(srv *Server, n int64) { srv.lim.maxClients.Store(n) }),
	"timeout": intParam(func(srv *Server) int64 { return srv.lim.timeout.Load() / int64(time.Second) },
		func(srv *Server, n int64) { srv.lim.timeout.Store(n * int64(time.Second)) }),
	"maxmemory": {
		get: func(srv *Server) string {
			if v, ok := srv.cfgStore.vals["maxmemory"]; ok {
				return v // as set, beyond int64 too
			}
			return strconv.FormatInt(srv.lim.maxMemory.Load(), 10)
		},
		set: func(srv *Server, v string) {
			srv.cfgStore.vals["maxmemory"] = v
			n, _ := strconv.ParseUint(v, 10, 64)
			srv.lim.maxMemory.Store(int64(min(n, 1<<63-1)))
			srv.sampleMemory() // the new limit applies to the next command
			srv.applyMemClients()
		},
	},
	"maxmemory-clients": {
		get: func(srv *Server) string {
			return formatNumber(&param{flags: fMemory | fPercent}, srv.cfgStore.memClients)
		},
		set: func(srv *Server, v string) {
			n := mustInt(v)
			if strings.HasSuffix(v, "%") {
				n = -n
			}
			srv.cfgStore.memClients = n
			srv.applyMemClients()
		},
	},
	"client-query-buffer-limit": intParam(func(srv *Server) int64 { return srv.lim.queryBuf.Load() },
		func(srv *Server, n int64) { srv.lim.queryBuf.Store(n) }),
	"client-output-buffer-limit": {
		get: func(srv *Server) string { return srv.outputLimitsString() },
		set: func(srv *Server, v string) { srv.setOutputLimitsString(v) },
	},
}

// applyMemClients sets the clients' memory cap from maxmemory-clients: a
// percentage applies to maxmemory (no cap while maxmemory is 0).
// REQUIRES: configStore.mu held.
func (srv *Server) applyMemClients() {
	n := srv.cfgStore.memClients
	if n < 0 {
		n = int64(float64(srv.lim.maxMemory.Load()) * float64(-n) / 100) // as Redis computes it
	}
	srv.lim.maxMemClients.Store(n)
}

// outputLimitsString prints client-output-buffer-limit's three classes.
// REQUIRES: configStore.mu held.
func (srv *Server) outputLimitsString() string {
	out := srv.cfgStore.out
	return "normal " + out["normal"] + " slave " + out["slave"] + " pubsub " + out["pubsub"]
}

// setOutputLimitsString applies a canonical client-output-buffer-limit
// value (see parseOutputBufferLimit). REQUIRES: configStore.mu held.
func (srv *Server) setOutputLimitsString(v string) {
	f := strings.Fields(v)
	for i := 0; i+3 < len(f); i += 4 {
		srv.cfgStore.out[f[i]] = strings.Join(f[i+1:i+4], " ")
		hard, soft, secs := mustInt(f[i+1]), mustInt(f[i+2]), mustInt(f[i+3])
		limit := &OutputLimit{Hard: hard, Soft: soft, SoftFor: time.Duration(secs) * time.Second}
		switch f[i] {
		case "normal":
			srv.lim.out[classNormal].Store(limit)
		case "pubsub":
			srv.lim.out[classPubsub].Store(limit)
		}
	}
}
