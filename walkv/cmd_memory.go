package walkv

import (
	"fmt"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"unsafe"

	"github.com/tidwall/btree"
)

// MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP.
//
// MEMORY USAGE estimates the bytes a key costs walkv (Redis measures its
// allocator's blocks; walkv's figures are Go's):
//   - every key: its item struct, the key's bytes, and its entry in the
//     keyspace's map (string header, pointer, a share of the bucket:
//     keyEntryBytes), plus a deadline entry if it has a TTL;
//   - a string: the capacity of its byte slice;
//   - a hash: per field, the map entry (two headers and a share of the
//     bucket) and the field's and value's bytes;
//   - a list: per element, a slice header and its bytes, and per chunk
//     of up to listChunk elements the chunk;
//   - a set: per member, the map entry and the member's bytes;
//   - a sorted set: per member, the entry (member, score) and a slot in
//     each of its two B-trees.
//
// For a hash, list, set or sorted set, SAMPLES elements (default 5, 0 all)
// are measured and their average size counts for every element, as
// Redis samples nested values.

func init() {
	register(&command{name: "memory", arity: -2, flags: flagReadonly, lock: lockRead, first: 2, last: 2, step: 1, run: cmdMemory})
}

var memoryHelp = []string{
	"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return memory problems reports.",
	"MALLOC-STATS",
	"    Return internal statistics report from the memory allocator.",
	"PURGE",
	"    Attempt to purge dirty pages for reclamation by the allocator.",
	"STATS",
	"    Return information about the memory usage of the server.",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
	"HELP",
	"    Prints this help.",
}

func cmdMemory(x *exec) {
	if msg := subcommandError(commands["memory"], x.args); msg != "" {
		x.c.WriteError(msg)
		return
	}
	switch lowerASCII(string(x.args[1])) {
	case "help":
		x.writeStatuses(memoryHelp)
	case "usage":
		x.memoryUsage()
	case "stats":
		x.memoryStats()
	case "doctor":
		x.typed().WriteVerbatim(x.srv.memoryDoctor())
	case "malloc-stats":
		x.typed().WriteVerbatim(mallocStats())
	case "purge":
		debug.FreeOSMemory()
		x.c.WriteString("OK")
	}
}

// Sizes of the structures MEMORY USAGE counts.
const (
	sliceHeader   = int(unsafe.Sizeof([]byte(nil)))
	stringHeader  = int(unsafe.Sizeof(""))
	keyEntryBytes = stringHeader + 8 + 8 // map key, item pointer, bucket share
	mapEntryShare = 8                    // a map entry's share of its bucket (tophash, overflow)
	deadlineBytes = 48                   // a TTL's entry in the deadline tree
	btreeSlot     = 8 + 8                // a pointer in a B-tree node, and the node's share
	defaultSample = 5
)

// memoryUsage answers MEMORY USAGE key [SAMPLES count].
func (x *exec) memoryUsage() {
	samples := int64(defaultSample)
	for j := 3; j < len(x.args); j++ {
		if !eqFold(x.args[j], "samples") || j+1 >= len(x.args) {
			x.c.WriteError(errSyntax)
			return
		}
		n, ok := x.argInt(j + 1)
		if !ok {
			return
		}
		if n < 0 {
			x.c.WriteError(errSyntax)
			return
		}
		if samples = n; n == 0 {
			samples = 1<<63 - 1
		}
		j++
	}
	it := x.live(x.key(2))
	if it == nil {
		x.c.WriteNull()
		return
	}
	x.c.WriteInt64(int64(itemUsage(it, samples)))
}

// itemUsage estimates the bytes it costs (see the file's comment).
func itemUsage(it *item, samples int64) int {
	n := int(unsafe.Sizeof(*it)) + len(it.key) + keyEntryBytes
	if it.expire != 0 {
		n += deadlineBytes
	}
	switch it.kind {
	case kindString:
		n += cap(it.str)
	case kindHash:
		n += 48 + sampled(len(it.fields), samples, func(visit func(int) bool) {
			for f, v := range it.fields {
				if !visit(2*stringHeader + mapEntryShare + len(f) + cap(v)) {
					return
				}
			}
		})
	case kindSet:
		n += 48 + sampled(len(it.set), samples, func(visit func(int) bool) {
			for m := range it.set {
				if !visit(stringHeader + mapEntryShare + len(m)) {
					return
				}
			}
		})
	case kindList:
		n += int(unsafe.Sizeof(*it.list)) + len(it.list.chunks)*(8+int(unsafe.Sizeof(lchunk{})))
		n += sampled(it.list.n, samples, func(visit func(int) bool) {
			for _, c := range it.list.chunks {
				for _, e := range c.e {
					if !visit(sliceHeader + cap(e)) {
						return
					}
				}
			}
		})
	case kindZSet:
		n += int(unsafe.Sizeof(*it.z)) + 2*int(unsafe.Sizeof(btree.BTree{}))
		n += sampled(it.z.len(), samples, func(visit func(int) bool) {
			it.z.byMember.Ascend(nil, func(v any) bool {
				return visit(int(unsafe.Sizeof(zent{})) + len(v.(*zent).member) + 2*btreeSlot)
			})
		})
	}
	return n
}

// sampled returns count elements' estimated bytes: the average over the
// first samples elements that each calls visit with (visit returns false
// once it has seen enough), times count.
func sampled(count int, samples int64, each func(visit func(int) bool)) int {
	if count == 0 {
		return 0
	}
	seen, sum := int64(0), 0
	each(func(size int) bool {
		sum += size
		seen++
		return seen < samples
	})
	if seen == 0 {
		return 0
	}
	return int(float64(sum) / float64(seen) * float64(count))
}

// memoryStats answers MEMORY STATS with Redis's fields.
func (x *exec) memoryStats() {
	srv := x.srv
	m := srv.memoryFigures()
	keys := 0
	var perDB anyMap // db.N for each database holding keys, as Redis lists them
	for i, ks := range x.db.dbs {
		if n := ks.len(); n > 0 {
			keys += n
			perDB = append(perDB, "db."+strconv.Itoa(i), anyMap{"overhead.hashtable.main", n * keyEntryBytes,
				"overhead.hashtable.expires", ks.expires() * deadlineBytes, "overhead.hashtable.slot-to-keys", 0})
		}
	}
	perKey := uint64(0)
	if keys > 0 {
		perKey = m.dataset / uint64(keys)
	}
	f := func(v float64) float64 { return v } // a double, as Redis's addReplyDouble
	pairs := anyMap{
		"peak.allocated", m.peak, "total.allocated", m.used, "startup.allocated", m.startup,
		"replication.backlog", 0, "clients.slaves", 0, "clients.normal", m.clients, "cluster.links", 0,
		"aof.buffer", 0, "lua.caches", 0, "functions.caches", 0,
	}
	pairs = append(pairs, perDB...)
	pairs = append(pairs,
		"overhead.total", m.overhead, "keys.count", keys, "keys.bytes-per-key", perKey,
		"dataset.bytes", m.dataset, "dataset.percentage", f(100*ratio(m.dataset, m.used-min(m.startup, m.used))),
		"peak.percentage", f(100*ratio(m.used, m.peak)),
		"allocator.allocated", m.objects, "allocator.active", m.active, "allocator.resident", m.resident,
		"allocator-fragmentation.ratio", f(ratio(m.active, m.objects)), "allocator-fragmentation.bytes", int64(m.active-m.objects),
		"allocator-rss.ratio", f(ratio(m.resident, m.active)), "allocator-rss.bytes", int64(m.resident)-int64(m.active),
		"rss-overhead.ratio", f(ratio(m.rss, m.resident)), "rss-overhead.bytes", int64(m.rss)-int64(m.resident),
		"fragmentation", f(ratio(m.rss, m.used)), "fragmentation.bytes", int64(m.rss)-int64(m.used),
	)
	x.writeAny(pairs)
}

// anyMap is a reply map for writeAny: keys and values alternate.
type anyMap []any

// writeAny writes a nested reply of strings, integers, doubles, arrays
// and maps (arrays of pairs under RESP2).
func (x *exec) writeAny(v any) {
	switch v := v.(type) {
	case anyMap:
		x.typed().WriteMap(len(v) / 2)
		for _, e := range v {
			x.writeAny(e)
		}
	case float64:
		x.typed().WriteDouble(v)
	case []any:
		x.c.WriteArray(len(v))
		for _, e := range v {
			x.writeAny(e)
		}
	case string:
		x.c.WriteBulkString(v)
	case int:
		x.c.WriteInt64(int64(v))
	case int64:
		x.c.WriteInt64(v)
	case uint64:
		x.c.WriteInt64(int64(v))
	}
}

// memoryDoctor is MEMORY DOCTOR's report (walkv's own checks and words).
func (srv *Server) memoryDoctor() string {
	m := srv.memoryFigures()
	if m.used < 5<<20 {
		return "This instance is empty or uses very little memory: there is nothing to diagnose yet."
	}
	var issues []string
	if r := ratio(m.rss, m.used); r > 1.4 {
		issues = append(issues, fmt.Sprintf("* High RSS overhead: the process's resident memory is %.2f times the live heap. "+
			"The Go runtime returns freed memory to the OS gradually; MEMORY PURGE returns it now.", r))
	}
	if m.peak > 0 && ratio(m.peak, m.used) > 1.5 {
		issues = append(issues, fmt.Sprintf("* Peak memory: the heap once held %s, %.2f times what it holds now.",
			bytesToHuman(m.peak), ratio(m.peak, m.used)))
	}
	if m.clients > 200<<10*uint64(max(srv.db.stats.clients.Load(), 1)) {
		issues = append(issues, "* Big client buffers: clients hold "+bytesToHuman(m.clients)+
			" of request and reply buffers; see client-output-buffer-limit and maxmemory-clients.")
	}
	if len(issues) == 0 {
		return "No memory problems found."
	}
	return "Memory problems found:\n\n" + strings.Join(issues, "\n\n") + "\n"
}

// mallocStats is MEMORY MALLOC-STATS: the Go runtime's memory classes.
func mallocStats() string {
	var b strings.Builder
	b.WriteString("Go runtime memory (runtime/metrics):\n")
	for _, d := range metrics.All() {
		if !strings.HasPrefix(d.Name, "/memory/classes/") && !strings.HasPrefix(d.Name, "/gc/heap/") {
			continue
		}
		s := []metrics.Sample{{Name: d.Name}}
		metrics.Read(s)
		if s[0].Value.Kind() == metrics.KindUint64 {
			fmt.Fprintf(&b, "%s %d\n", d.Name, s[0].Value.Uint64())
		}
	}
	return b.String()
}
