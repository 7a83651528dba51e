package walkv

import "math"

// The table of configuration parameters (CONFIG GET/SET).
//
// It lists every parameter redis-server 7.0.15 has (the standardConfig
// table of its config.c, TLS included, as Debian builds it), with Redis's
// types, bounds, flags and defaults, so that CONFIG GET * names the same
// parameters and CONFIG SET validates a value as Redis does and answers
// Redis's error texts. It was derived from the redis-server 7.0 source at
// development time; nothing is read from Redis at run time.
//
// A parameter walkv honours has an entry in liveParams (config_live.go)
// that reads and changes the server's state; every other parameter tunes
// something walkv does not have (encodings, replication, Redis Cluster,
// Lua, the latency monitor...): its value is validated, kept and
// reported back, so that tools and client libraries that set it keep
// working, and changes nothing. walkv's own parameters are named walkv-*
// (walkvParams).

// paramKind is how a parameter's value is parsed and printed.
type paramKind uint8

const (
	pBool    paramKind = iota // yes or no
	pString                   // any string (some have a validator, see checkString)
	pEnum                     // one of enum (several, with fMulti: bit flags)
	pInt                      // an integer between lo and hi (see the flags)
	pSpecial                  // parsed by its own function (see specialParams)
)

// paramFlags are Redis's flags of a parameter and of its numeric format.
type paramFlags uint16

const (
	fImmutable paramFlags = 1 << iota // set at start only: CONFIG SET refuses it
	fSensitive                        // a secret (redacted from logs)
	fHidden                           // CONFIG GET lists it only when named exactly
	fProtected                        // refused while enable-protected-configs is no (always, in walkv)
	fMulti                            // the value is several words separated by spaces
	fUnsigned                         // bounds compared as unsigned (C's unsigned and size_t)
	fMemory                           // accepts units (1gb, 100mb, 5k)
	fPercent                          // accepts N% (stored as -N)
	fOctal                            // parsed and printed in octal
	fNoDefrag                         // "yes" refused: no active defragmentation
)

// enumItem is one name of an enum parameter; several names may share a
// value (the first is the one printed).
type enumItem struct {
	name string
	val  int
}

// param is one configuration parameter.
type param struct {
	name  string // canonical name, lower case
	alias string // Redis's older name, or ""
	kind  paramKind
	flags paramFlags
	enum  []enumItem
	// lo and hi bound a pInt parameter, inclusive; with fUnsigned they
	// are compared as uint64 (hi -1 is the largest uint64).
	lo, hi int64
	def    string // the value at start, as CONFIG GET prints it
}

func (p *param) has(f paramFlags) bool { return p.flags&f != 0 }

var (
	enumSupervised       = []enumItem{{"upstart", 1}, {"systemd", 2}, {"auto", 3}, {"no", 0}}
	enumSyslogFacility   = []enumItem{{"user", 8}, {"local0", 128}, {"local1", 136}, {"local2", 144}, {"local3", 152}, {"local4", 160}, {"local5", 168}, {"local6", 176}, {"local7", 184}}
	enumDisklessLoad     = []enumItem{{"disabled", 0}, {"on-empty-db", 1}, {"swapdb", 2}}
	enumLoglevel         = []enumItem{{"debug", 0}, {"verbose", 1}, {"notice", 2}, {"warning", 3}}
	enumMaxmemoryPolicy  = []enumItem{{"volatile-lru", 1}, {"volatile-lfu", 2}, {"volatile-random", 3}, {"volatile-ttl", 4}, {"allkeys-lru", 5}, {"allkeys-lfu", 6}, {"allkeys-random", 7}, {"noeviction", 8}}
	enumFsync            = []enumItem{{"everysec", 2}, {"always", 1}, {"no", 0}}
	enumOOMScoreAdj      = []enumItem{{"no", 0}, {"yes", 1}, {"relative", 1}, {"absolute", 2}}
	enumPubsubDefault    = []enumItem{{"allchannels", 1}, {"resetchannels", 0}}
	enumSanitize         = []enumItem{{"no", 0}, {"yes", 1}, {"clients", 2}}
	enumProtectedAction  = []enumItem{{"no", 0}, {"yes", 1}, {"local", 2}}
	enumEndpointType     = []enumItem{{"ip", 0}, {"hostname", 1}, {"unknown-endpoint", 2}}
	enumPropagationError = []enumItem{{"ignore", 0}, {"panic", 1}, {"panic-on-replicas", 2}}
	enumShutdown         = []enumItem{{"default", 0}, {"save", 1}, {"nosave", 2}, {"now", 4}, {"force", 8}}
	enumTLSAuth          = []enumItem{{"no", 0}, {"yes", 1}, {"optional", 2}}
)

// redisParams are redis-server 7.0.15's parameters in its table's order.
// def is Redis's default, except where walkv's differs (see liveParams
// and the list in docs/walkv.md).
var redisParams = []param{
	{name: "rdbchecksum", kind: pBool, flags: fImmutable, def: "yes"},
	{name: "daemonize", kind: pBool, flags: fImmutable, def: "no"},
	{name: "io-threads-do-reads", kind: pBool, flags: fImmutable, def: "no"},
	{name: "always-show-logo", kind: pBool, flags: fImmutable, def: "no"},
	{name: "protected-mode", kind: pBool, def: "yes"},
	{name: "rdbcompression", kind: pBool, def: "yes"},
	{name: "rdb-del-sync-files", kind: pBool, def: "no"},
	{name: "activerehashing", kind: pBool, def: "yes"},
	{name: "stop-writes-on-bgsave-error", kind: pBool, def: "yes"},
	{name: "set-proc-title", kind: pBool, flags: fImmutable, def: "yes"},
	{name: "dynamic-hz", kind: pBool, def: "yes"},
	{name: "lazyfree-lazy-eviction", kind: pBool, def: "no"},
	{name: "lazyfree-lazy-expire", kind: pBool, def: "no"},
	{name: "lazyfree-lazy-server-del", kind: pBool, def: "no"},
	{name: "lazyfree-lazy-user-del", kind: pBool, def: "no"},
	{name: "lazyfree-lazy-user-flush", kind: pBool, def: "no"},
	{name: "repl-disable-tcp-nodelay", kind: pBool, def: "no"},
	{name: "repl-diskless-sync", kind: pBool, def: "yes"},
	{name: "aof-rewrite-incremental-fsync", kind: pBool, def: "yes"},
	{name: "no-appendfsync-on-rewrite", kind: pBool, def: "no"},
	{name: "cluster-require-full-coverage", kind: pBool, def: "yes"},
	{name: "rdb-save-incremental-fsync", kind: pBool, def: "yes"},
	{name: "aof-load-truncated", kind: pBool, def: "yes"},
	{name: "aof-use-rdb-preamble", kind: pBool, def: "yes"},
	{name: "aof-timestamp-enabled", kind: pBool, def: "no"},
	{name: "cluster-replica-no-failover", alias: "cluster-slave-no-failover", kind: pBool, def: "no"},
	{name: "replica-lazy-flush", alias: "slave-lazy-flush", kind: pBool, def: "no"},
	{name: "replica-serve-stale-data", alias: "slave-serve-stale-data", kind: pBool, def: "yes"},
	{name: "replica-read-only", alias: "slave-read-only", kind: pBool, def: "yes"},
	{name: "replica-ignore-maxmemory", alias: "slave-ignore-maxmemory", kind: pBool, def: "yes"},
	{name: "jemalloc-bg-thread", kind: pBool, def: "yes"},
	{name: "activedefrag", kind: pBool, flags: fNoDefrag, def: "no"},
	{name: "syslog-enabled", kind: pBool, flags: fImmutable, def: "no"},
	{name: "cluster-enabled", kind: pBool, flags: fImmutable, def: "no"},
	{name: "appendonly", kind: pBool, def: "no"},
	{name: "cluster-allow-reads-when-down", kind: pBool, def: "no"},
	{name: "cluster-allow-pubsubshard-when-down", kind: pBool, def: "yes"},
	{name: "crash-log-enabled", kind: pBool, def: "yes"},
	{name: "crash-memcheck-enabled", kind: pBool, def: "yes"},
	{name: "use-exit-on-panic", kind: pBool, flags: fHidden, def: "no"},
	{name: "disable-thp", kind: pBool, flags: fImmutable, def: "yes"},
	{name: "cluster-allow-replica-migration", kind: pBool, def: "yes"},
	{name: "replica-announced", kind: pBool, def: "yes"},
	{name: "latency-tracking", kind: pBool, def: "yes"},
	{name: "aof-disable-auto-gc", kind: pBool, def: "no"},
	{name: "replica-ignore-disk-write-errors", kind: pBool, def: "no"},
	{name: "aclfile", kind: pString, flags: fImmutable, def: ""},
	{name: "unixsocket", kind: pString, flags: fImmutable, def: ""},
	{name: "pidfile", kind: pString, flags: fImmutable, def: ""},
	{name: "replica-announce-ip", alias: "slave-announce-ip", kind: pString, def: ""},
	{name: "masteruser", kind: pString, flags: fSensitive, def: ""},
	{name: "cluster-announce-ip", kind: pString, def: ""},
	{name: "cluster-config-file", kind: pString, flags: fImmutable, def: "nodes.conf"},
	{name: "cluster-announce-hostname", kind: pString, def: ""},
	{name: "syslog-ident", kind: pString, flags: fImmutable, def: "redis"},
	{name: "dbfilename", kind: pString, flags: fProtected, def: "dump.rdb"},
	{name: "appendfilename", kind: pString, flags: fImmutable, def: "appendonly.aof"},
	{name: "appenddirname", kind: pString, flags: fImmutable, def: "appendonlydir"},
	{name: "server_cpulist", kind: pString, flags: fImmutable, def: ""},
	{name: "bio_cpulist", kind: pString, flags: fImmutable, def: ""},
	{name: "aof_rewrite_cpulist", kind: pString, flags: fImmutable, def: ""},
	{name: "bgsave_cpulist", kind: pString, flags: fImmutable, def: ""},
	{name: "ignore-warnings", kind: pString, def: ""},
	{name: "proc-title-template", kind: pString, def: "{title} {listen-addr} {server-mode}"},
	{name: "bind-source-addr", kind: pString, def: ""},
	{name: "logfile", kind: pString, flags: fImmutable, def: ""},
	{name: "masterauth", kind: pString, flags: fSensitive, def: ""},
	{name: "requirepass", kind: pString, flags: fSensitive, def: ""},
	{name: "supervised", kind: pEnum, flags: fImmutable, enum: enumSupervised, def: "no"},
	{name: "syslog-facility", kind: pEnum, flags: fImmutable, enum: enumSyslogFacility, def: "local0"},
	{name: "repl-diskless-load", kind: pEnum, enum: enumDisklessLoad, def: "disabled"},
	{name: "loglevel", kind: pEnum, enum: enumLoglevel, def: "notice"},
	{name: "maxmemory-policy", kind: pEnum, enum: enumMaxmemoryPolicy, def: "noeviction"},
	{name: "appendfsync", kind: pEnum, enum: enumFsync, def: "everysec"},
	{name: "oom-score-adj", kind: pEnum, enum: enumOOMScoreAdj, def: "no"},
	{name: "acl-pubsub-default", kind: pEnum, enum: enumPubsubDefault, def: "resetchannels"},
	{name: "sanitize-dump-payload", kind: pEnum, enum: enumSanitize, def: "no"},
	{name: "enable-protected-configs", kind: pEnum, flags: fImmutable, enum: enumProtectedAction, def: "no"},
	{name: "enable-debug-command", kind: pEnum, flags: fImmutable, enum: enumProtectedAction, def: "no"},
	{name: "enable-module-command", kind: pEnum, flags: fImmutable, enum: enumProtectedAction, def: "no"},
	{name: "cluster-preferred-endpoint-type", kind: pEnum, enum: enumEndpointType, def: "ip"},
	{name: "propagation-error-behavior", kind: pEnum, enum: enumPropagationError, def: "ignore"},
	{name: "shutdown-on-sigint", kind: pEnum, flags: fMulti, enum: enumShutdown, def: "default"},
	{name: "shutdown-on-sigterm", kind: pEnum, flags: fMulti, enum: enumShutdown, def: "default"},
	{name: "databases", kind: pInt, flags: fImmutable, lo: 1, hi: math.MaxInt32, def: "16"},
	{name: "port", kind: pInt, lo: 0, hi: 65535, def: "6379"},
	{name: "io-threads", kind: pInt, flags: fImmutable, lo: 1, hi: 128, def: "1"},
	{name: "auto-aof-rewrite-percentage", kind: pInt, lo: 0, hi: math.MaxInt32, def: "100"},
	{name: "cluster-replica-validity-factor", alias: "cluster-slave-validity-factor", kind: pInt, lo: 0, hi: math.MaxInt32, def: "10"},
	{name: "list-max-listpack-size", alias: "list-max-ziplist-size", kind: pInt, lo: math.MinInt32, hi: math.MaxInt32, def: "-2"},
	{name: "tcp-keepalive", kind: pInt, lo: 0, hi: math.MaxInt32, def: "300"},
	{name: "cluster-migration-barrier", kind: pInt, lo: 0, hi: math.MaxInt32, def: "1"},
	{name: "active-defrag-cycle-min", kind: pInt, lo: 1, hi: 99, def: "1"},
	{name: "active-defrag-cycle-max", kind: pInt, lo: 1, hi: 99, def: "25"},
	{name: "active-defrag-threshold-lower", kind: pInt, lo: 0, hi: 1000, def: "10"},
	{name: "active-defrag-threshold-upper", kind: pInt, lo: 0, hi: 1000, def: "100"},
	{name: "lfu-log-factor", kind: pInt, lo: 0, hi: math.MaxInt32, def: "10"},
	{name: "lfu-decay-time", kind: pInt, lo: 0, hi: math.MaxInt32, def: "1"},
	{name: "replica-priority", alias: "slave-priority", kind: pInt, lo: 0, hi: math.MaxInt32, def: "100"},
	{name: "repl-diskless-sync-delay", kind: pInt, lo: 0, hi: math.MaxInt32, def: "5"},
	{name: "maxmemory-samples", kind: pInt, lo: 1, hi: math.MaxInt32, def: "5"},
	{name: "maxmemory-eviction-tenacity", kind: pInt, lo: 0, hi: 100, def: "10"},
	{name: "timeout", kind: pInt, lo: 0, hi: math.MaxInt32, def: "0"},
	{name: "replica-announce-port", alias: "slave-announce-port", kind: pInt, lo: 0, hi: 65535, def: "0"},
	{name: "tcp-backlog", kind: pInt, flags: fImmutable, lo: 0, hi: math.MaxInt32, def: "511"},
	{name: "cluster-port", kind: pInt, flags: fImmutable, lo: 0, hi: 65535, def: "0"},
	{name: "cluster-announce-bus-port", kind: pInt, lo: 0, hi: 65535, def: "0"},
	{name: "cluster-announce-port", kind: pInt, lo: 0, hi: 65535, def: "0"},
	{name: "cluster-announce-tls-port", kind: pInt, lo: 0, hi: 65535, def: "0"},
	{name: "repl-timeout", kind: pInt, lo: 1, hi: math.MaxInt32, def: "60"},
	{name: "repl-ping-replica-period", alias: "repl-ping-slave-period", kind: pInt, lo: 1, hi: math.MaxInt32, def: "10"},
	{name: "list-compress-depth", kind: pInt, lo: 0, hi: math.MaxInt32, def: "0"},
	{name: "rdb-key-save-delay", kind: pInt, flags: fHidden, lo: math.MinInt32, hi: math.MaxInt32, def: "0"},
	{name: "key-load-delay", kind: pInt, flags: fHidden, lo: math.MinInt32, hi: math.MaxInt32, def: "0"},
	{name: "active-expire-effort", kind: pInt, lo: 1, hi: 10, def: "1"},
	{name: "hz", kind: pInt, lo: 0, hi: math.MaxInt32, def: "10"},
	{name: "min-replicas-to-write", alias: "min-slaves-to-write", kind: pInt, lo: 0, hi: math.MaxInt32, def: "0"},
	{name: "min-replicas-max-lag", alias: "min-slaves-max-lag", kind: pInt, lo: 0, hi: math.MaxInt32, def: "10"},
	{name: "watchdog-period", kind: pInt, flags: fHidden, lo: 0, hi: math.MaxInt32, def: "0"},
	{name: "shutdown-timeout", kind: pInt, lo: 0, hi: math.MaxInt32, def: "10"},
	{name: "repl-diskless-sync-max-replicas", kind: pInt, lo: 0, hi: math.MaxInt32, def: "0"},
	{name: "maxclients", kind: pInt, flags: fUnsigned, lo: 1, hi: math.MaxUint32, def: "10000"},
	{name: "unixsocketperm", kind: pInt, flags: fImmutable | fUnsigned | fOctal, lo: 0, hi: 0777, def: "0"},
	{name: "socket-mark-id", kind: pInt, flags: fImmutable | fUnsigned, lo: 0, hi: math.MaxUint32, def: "0"},
	{name: "active-defrag-max-scan-fields", kind: pInt, lo: 1, hi: math.MaxInt64, def: "1000"},
	{name: "slowlog-max-len", kind: pInt, lo: 0, hi: math.MaxInt64, def: "128"},
	{name: "acllog-max-len", kind: pInt, lo: 0, hi: math.MaxInt64, def: "128"},
	{name: "busy-reply-threshold", alias: "lua-time-limit", kind: pInt, lo: 0, hi: math.MaxInt64, def: "5000"},
	{name: "cluster-node-timeout", kind: pInt, lo: 0, hi: math.MaxInt64, def: "15000"},
	{name: "slowlog-log-slower-than", kind: pInt, lo: -1, hi: math.MaxInt64, def: "10000"},
	{name: "latency-monitor-threshold", kind: pInt, lo: 0, hi: math.MaxInt64, def: "0"},
	{name: "proto-max-bulk-len", kind: pInt, flags: fMemory, lo: 1024 * 1024, hi: math.MaxInt64, def: "536870912"},
	{name: "stream-node-max-entries", kind: pInt, lo: 0, hi: math.MaxInt64, def: "100"},
	{name: "repl-backlog-size", kind: pInt, flags: fMemory, lo: 1, hi: math.MaxInt64, def: "1048576"},
	{name: "maxmemory", kind: pInt, flags: fUnsigned | fMemory, lo: 0, hi: -1, def: "0"},
	{name: "cluster-link-sendbuf-limit", kind: pInt, flags: fUnsigned | fMemory, lo: 0, hi: -1, def: "0"},
	{name: "hash-max-listpack-entries", alias: "hash-max-ziplist-entries", kind: pInt, flags: fUnsigned, lo: 0, hi: math.MaxInt64, def: "512"},
	{name: "set-max-intset-entries", kind: pInt, flags: fUnsigned, lo: 0, hi: math.MaxInt64, def: "512"},
	{name: "zset-max-listpack-entries", alias: "zset-max-ziplist-entries", kind: pInt, flags: fUnsigned, lo: 0, hi: math.MaxInt64, def: "128"},
	{name: "active-defrag-ignore-bytes", kind: pInt, flags: fUnsigned | fMemory, lo: 1, hi: math.MaxInt64, def: "104857600"},
	{name: "hash-max-listpack-value", alias: "hash-max-ziplist-value", kind: pInt, flags: fUnsigned | fMemory, lo: 0, hi: math.MaxInt64, def: "64"},
	{name: "stream-node-max-bytes", kind: pInt, flags: fUnsigned | fMemory, lo: 0, hi: math.MaxInt64, def: "4096"},
	{name: "zset-max-listpack-value", alias: "zset-max-ziplist-value", kind: pInt, flags: fUnsigned | fMemory, lo: 0, hi: math.MaxInt64, def: "64"},
	{name: "hll-sparse-max-bytes", kind: pInt, flags: fUnsigned | fMemory, lo: 0, hi: math.MaxInt64, def: "3000"},
	{name: "tracking-table-max-keys", kind: pInt, flags: fUnsigned, lo: 0, hi: math.MaxInt64, def: "1000000"},
	{name: "client-query-buffer-limit", kind: pInt, flags: fUnsigned | fMemory, lo: 1024 * 1024, hi: math.MaxInt64, def: "1073741824"},
	{name: "maxmemory-clients", kind: pInt, flags: fMemory | fPercent, lo: -100, hi: math.MaxInt64, def: "0"},
	{name: "repl-backlog-ttl", kind: pInt, lo: 0, hi: math.MaxInt64, def: "3600"},
	{name: "auto-aof-rewrite-min-size", kind: pInt, flags: fMemory, lo: 0, hi: math.MaxInt64, def: "67108864"},
	{name: "loading-process-events-interval-bytes", kind: pInt, flags: fHidden, lo: 1024, hi: math.MaxInt32, def: "2097152"},
	{name: "tls-port", kind: pInt, lo: 0, hi: 65535, def: "0"},
	{name: "tls-session-cache-size", kind: pInt, lo: 0, hi: math.MaxInt32, def: "20480"},
	{name: "tls-session-cache-timeout", kind: pInt, lo: 0, hi: math.MaxInt32, def: "300"},
	{name: "tls-cluster", kind: pBool, def: "no"},
	{name: "tls-replication", kind: pBool, def: "no"},
	{name: "tls-auth-clients", kind: pEnum, enum: enumTLSAuth, def: "yes"},
	{name: "tls-prefer-server-ciphers", kind: pBool, def: "no"},
	{name: "tls-session-caching", kind: pBool, def: "yes"},
	{name: "tls-cert-file", kind: pString, def: ""},
	{name: "tls-key-file", kind: pString, def: ""},
	{name: "tls-key-file-pass", kind: pString, def: ""},
	{name: "tls-client-cert-file", kind: pString, def: ""},
	{name: "tls-client-key-file", kind: pString, def: ""},
	{name: "tls-client-key-file-pass", kind: pString, def: ""},
	{name: "tls-dh-params-file", kind: pString, def: ""},
	{name: "tls-ca-cert-file", kind: pString, def: ""},
	{name: "tls-ca-cert-dir", kind: pString, def: ""},
	{name: "tls-protocols", kind: pString, def: ""},
	{name: "tls-ciphers", kind: pString, def: ""},
	{name: "tls-ciphersuites", kind: pString, def: ""},
	{name: "dir", kind: pSpecial, flags: fProtected, def: ""},
	{name: "save", kind: pSpecial, flags: fMulti, def: "3600 1 300 100 60 10000"},
	{name: "client-output-buffer-limit", kind: pSpecial, flags: fMulti, def: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
	{name: "oom-score-adj-values", kind: pSpecial, flags: fMulti, def: "0 200 800"},
	{name: "notify-keyspace-events", kind: pSpecial, def: ""},
	{name: "bind", kind: pSpecial, flags: fMulti, def: "* -::*"},
	{name: "replicaof", alias: "slaveof", kind: pSpecial, flags: fImmutable | fMulti, def: ""},
	{name: "latency-tracking-info-percentiles", kind: pSpecial, flags: fMulti, def: "50 99 99.9"},
}

// walkvParams are walkv's own parameters (not Redis's): named walkv-*,
// listed by CONFIG GET * after Redis's.
var walkvParams = []param{
	{name: "walkv-snapshot-log-bytes", kind: pInt, flags: fImmutable, lo: math.MinInt64, hi: math.MaxInt64, def: "67108864"},
}
