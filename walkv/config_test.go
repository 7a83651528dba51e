package walkv

import (
	"testing"
	"time"
)

// TestParseParam pins Redis 7.0's parsing rules and error texts (the
// differential test checks them against redis-server where it is
// installed; these cases hold without it).
func TestParseParam(t *testing.T) {
	_, byName := params()
	tests := []struct {
		name, value, cur string
		want, why        string
	}{
		{"maxmemory", "1gb", "", "1073741824", ""},
		{"maxmemory", "1G", "", "1000000000", ""},
		{"maxmemory", "", "", "0", ""}, // no digits: 0, as memtoull
		{"maxmemory", "99999999999999999999", "", "18446744073709551615", ""},
		{"maxmemory", "-1", "", "", "argument must be a memory value"},
		{"maxmemory", "1 gb", "", "", "argument must be a memory value"},
		{"proto-max-bulk-len", "1k", "", "", "argument must be between 1048576 and 9223372036854775807 inclusive"},
		{"maxmemory-clients", "10%", "", "10%", ""},
		{"maxmemory-clients", "101%", "", "", "percentage argument must be less or equal to 100"},
		{"maxmemory-clients", "x", "", "", "argument must be a memory or percent value"},
		{"maxclients", "0", "", "", "argument must be between 1 and 4294967295 inclusive"},
		{"maxclients", "-1", "", "", "argument must be between 1 and 4294967295 inclusive"},
		{"timeout", "01", "", "", "argument couldn't be parsed into an integer"},
		{"timeout", "1k", "", "", "argument couldn't be parsed into an integer"},
		{"list-max-listpack-size", "-5", "", "-5", ""},
		{"protected-mode", "YES", "", "yes", ""},
		{"protected-mode", "1", "", "", "argument must be 'yes' or 'no'"},
		{"activedefrag", "yes", "", "", "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"},
		{"appendfsync", "Always", "", "always", ""},
		{"appendfsync", "sometimes", "", "", "argument(s) must be one of the following: everysec, always, no"},
		{"oom-score-adj", "relative", "", "yes", ""}, // the first name of the value
		{"shutdown-on-sigint", "force save", "", "save force", ""},
		{"shutdown-on-sigint", "save nosave", "", "", "shutdown options SAVE and NOSAVE can't be used simultaneously"},
		{"shutdown-on-sigint", "default  now", "", "", "argument(s) must be one of the following: default, save, nosave, now, force"},
		{"save", "3600 1 300 100", "", "3600 1 300 100", ""},
		{"save", "3600 ", "", "3600 0", ""}, // an empty word is 0, as strtoll
		{"save", "0 1", "", "", "Invalid save parameters"},
		{"save", "+5 05", "", "5 5", ""},
		{"client-output-buffer-limit", "replica 1mb 2mb 3", "normal 0 0 0 slave 1 2 3 pubsub 4 5 6", "normal 0 0 0 slave 1048576 2097152 3 pubsub 4 5 6", ""},
		{"client-output-buffer-limit", "master 0 0 0", "", "", "Invalid client class specified in buffer limit configuration."},
		{"client-output-buffer-limit", "normal 0 0", "", "", "Wrong number of arguments in buffer limit configuration."},
		{"notify-keyspace-events", "KEg$lshzxetd", "", "AKE", ""},
		{"notify-keyspace-events", "Q", "", "", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."},
		{"latency-tracking-info-percentiles", "50 99.123456789 100", "", "50 99.123457 100", ""},
		{"latency-tracking-info-percentiles", "101", "", "", "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"},
		{"proc-title-template", "{title}", "", "", "template format is invalid or contains unknown variables"},
		{"proc-title-template", "x {{", "", "x {{", ""},
		{"cluster-announce-hostname", "bad_host", "", "", "Hostnames may only contain alphanumeric characters, hyphens or dots"},
	}
	for _, tt := range tests {
		e, ok := byName[tt.name]
		if !ok {
			t.Fatalf("no parameter %q", tt.name)
		}
		got, why := parseParam(e.p, tt.value, tt.cur)
		if got != tt.want || why != tt.why {
			t.Errorf("%s %q: got %q %q, want %q %q", tt.name, tt.value, got, why, tt.want, tt.why)
		}
	}
}

// TestConfigSetLive: the parameters walkv honours change its behaviour,
// and a CONFIG SET with one bad pair changes nothing.
func TestConfigSetLive(t *testing.T) {
	e := newEnv(t, nil)
	lim := &e.srv.lim
	e.runSteps([]step{
		{"CONFIG SET maxclients 20 timeout 300 maxmemory 1mb", "OK"},
		{"CONFIG SET maxclients 30 timeout x", "ERR:ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"},
		{"CONFIG GET maxclients timeout maxmemory", []any{"maxclients", "20", "timeout", "300", "maxmemory", "1048576"}},
		{"CONFIG SET maxmemory-clients 50%", "OK"},
		{"CONFIG SET appendonly no", "ERR:ERR CONFIG SET failed (possibly related to argument 'appendonly') - walkv logs every write"},
		{"CONFIG SET maxmemory-policy allkeys-lru", "ERR:ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - walkv supports only noeviction"},
		{"CONFIG SET maxmemory-policy NOEVICTION appendfsync everysec", "OK"},
		{"CONFIG SET databases 16", "ERR:ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"},
		{"CONFIG SET dir /tmp", "ERR:ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"},
		{"CONFIG SET hash-max-ziplist-entries 7", "OK"},
		{"CONFIG GET hash-max-listpack-entries HASH-MAX-ZIPLIST-ENTRIES", []any{"hash-max-listpack-entries", "7", "HASH-MAX-ZIPLIST-ENTRIES", "7"}},
		{"CONFIG SET maxclients 1 MAXCLIENTS 2", "ERR:ERR CONFIG SET failed (possibly related to argument 'MAXCLIENTS') - duplicate parameter"},
		{"CONFIG SET hz 100000", "OK"},
		{"CONFIG GET hz", []any{"hz", "500"}},
		{"CONFIG REWRITE", "ERR:ERR The server is running without a config file"},
		{"CONFIG GET watchdog*", []any{}},
		{"CONFIG GET watchdog-period", []any{"watchdog-period", "0"}},
	})
	if lim.maxClients.Load() != 20 || lim.timeout.Load() != int64(300*time.Second) || lim.maxMemory.Load() != 1<<20 {
		t.Errorf("limits: maxclients %d timeout %v maxmemory %d", lim.maxClients.Load(), time.Duration(lim.timeout.Load()), lim.maxMemory.Load())
	}
	if got := lim.maxMemClients.Load(); got != 1<<19 {
		t.Errorf("maxmemory-clients 50%% of 1mb = %d bytes, want %d", got, 1<<19)
	}
	if e.db.Fsync() != FsyncEverysec {
		t.Errorf("appendfsync = %v after CONFIG SET", e.db.Fsync())
	}
}

// FuzzParseParam: parsing never panics, and a value CONFIG GET prints
// parses back to itself (CONFIG SET of a CONFIG GET reply is a no-op).
func FuzzParseParam(f *testing.F) {
	for _, s := range []string{"1gb", "", "10%", "-1", "yes", "save now", "3600 1 300 100", "normal 0 0 0 slave 1mb 2mb 3",
		"KEA", "50 99 99.9", "{title} {port}", "99999999999999999999", "0777", "+5 05"} {
		f.Add(uint16(0), s)
		f.Add(uint16(100), s)
	}
	list, _ := params()
	f.Fuzz(func(t *testing.T, i uint16, v string) {
		p := list[int(i)%len(list)].p
		cur := p.def
		got, why := parseParam(p, v, cur)
		if why != "" {
			return
		}
		again, why := parseParam(p, got, cur)
		if why != "" || again != got {
			t.Errorf("%s %q → %q → %q %q", p.name, v, got, again, why)
		}
	})
}

// TestSaveParam: a save point starts a background snapshot once it has
// enough writes and time.
func TestSaveParam(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Now()
	if e.srv.saveCron(now.Add(time.Hour)) {
		t.Error("a snapshot with no save points")
	}
	e.runSteps([]step{{"CONFIG SET save 3600␣2", "OK"}, {"SET k v", "OK"}})
	if e.srv.saveCron(now.Add(2 * time.Hour)) {
		t.Error("a snapshot after 1 write, the save point asks for 2")
	}
	e.runSteps([]step{{"SET k w", "OK"}})
	if e.srv.saveCron(now.Add(time.Minute)) {
		t.Error("a snapshot after a minute, the save point asks for an hour")
	}
	if !e.srv.saveCron(now.Add(2 * time.Hour)) {
		t.Error("no snapshot: 2 writes and 2 hours")
	}
}
