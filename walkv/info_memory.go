package walkv

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
)

// INFO memory. walkv's memory is the Go runtime's: used_memory is the
// heap's live and not yet collected objects, the allocator_* fields are
// the heap's spans in use and the memory the runtime holds from the OS,
// used_memory_rss the process's resident set (/proc/self/statm on
// Linux; the runtime's total elsewhere). The overhead is what the server
// had allocated at start plus the clients' buffers; the dataset the rest.
// Fields about what walkv does not have (Lua, functions, replication
// buffers, active defragmentation, lazy free) are 0.

// memSample is a reading of the runtime's memory figures.
type memSample struct {
	objects, active, runtimeTotal, released uint64
}

func readMemory() memSample {
	s := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(s)
	v := func(i int) uint64 {
		if s[i].Value.Kind() == metrics.KindUint64 {
			return s[i].Value.Uint64()
		}
		return 0
	}
	return memSample{objects: v(0), active: v(0) + v(1), runtimeTotal: v(2), released: v(3)}
}

// heapObjectBytes is used_memory now.
func heapObjectBytes() int64 { return int64(readMemory().objects) }

// processRSS returns the resident set size in bytes, or 0 if unknown.
func processRSS() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

// totalSystemMemory returns the machine's memory (MemTotal of
// /proc/meminfo), or 0 if unknown.
func totalSystemMemory() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseUint(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// bytesToHuman formats n as Redis's INFO does (1.50K, 2.00M...).
func bytesToHuman(n uint64) string {
	d := float64(n)
	units := []string{"K", "M", "G", "T", "P"}
	if n < 1024 {
		return fmt.Sprintf("%dB", n)
	}
	for i, u := range units {
		if n < 1<<(10*(i+2)) || i == len(units)-1 {
			return fmt.Sprintf("%.2f%s", d/float64(uint64(1)<<(10*(i+1))), u)
		}
	}
	return fmt.Sprintf("%dB", n)
}

// ratio is a/b, 0 when b is 0.
func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// memoryFigures are INFO memory's and MEMORY STATS's computed values.
type memoryFigures struct {
	memSample
	used, rss, peak, startup, overhead, dataset, clients, resident uint64
}

func (srv *Server) memoryFigures() memoryFigures {
	m := memoryFigures{memSample: readMemory()}
	m.used = m.objects
	m.rss = processRSS()
	if m.rss == 0 {
		m.rss = m.runtimeTotal - m.released
	}
	m.resident = m.runtimeTotal - m.released
	for {
		p := srv.memPeak.Load()
		if int64(m.used) <= p || srv.memPeak.CompareAndSwap(p, int64(m.used)) {
			m.peak = uint64(max(p, int64(m.used)))
			break
		}
	}
	m.startup = uint64(max(srv.memStart, 0))
	m.clients = uint64(max(srv.clientMem.Load(), 0))
	m.overhead = min(m.startup+m.clients, m.used)
	m.dataset = m.used - m.overhead
	return m
}

// memoryInfo is INFO's memory section.
func (srv *Server) memoryInfo() []infoField {
	m := srv.memoryFigures()
	maxmem := uint64(srv.lim.maxMemory.Load())
	sys := totalSystemMemory()
	pct := func(a, b uint64) string { return fmt.Sprintf("%.2f%%", 100*ratio(a, b)) }
	r2 := func(a, b uint64) string { return fmt.Sprintf("%.2f", ratio(a, b)) }
	return []infoField{
		{"used_memory", m.used}, {"used_memory_human", bytesToHuman(m.used)},
		{"used_memory_rss", m.rss}, {"used_memory_rss_human", bytesToHuman(m.rss)},
		{"used_memory_peak", m.peak}, {"used_memory_peak_human", bytesToHuman(m.peak)},
		{"used_memory_peak_perc", pct(m.used, m.peak)},
		{"used_memory_overhead", m.overhead}, {"used_memory_startup", m.startup},
		{"used_memory_dataset", m.dataset}, {"used_memory_dataset_perc", pct(m.dataset, m.used-min(m.startup, m.used))},
		{"allocator_allocated", m.objects}, {"allocator_active", m.active}, {"allocator_resident", m.resident},
		{"total_system_memory", sys}, {"total_system_memory_human", bytesToHuman(sys)},
		{"used_memory_lua", 0}, {"used_memory_vm_eval", 0}, {"used_memory_lua_human", "0B"},
		{"used_memory_scripts_eval", 0}, {"number_of_cached_scripts", 0}, {"number_of_functions", 0},
		{"number_of_libraries", 0}, {"used_memory_vm_functions", 0}, {"used_memory_vm_total", 0},
		{"used_memory_vm_total_human", "0B"}, {"used_memory_functions", 0}, {"used_memory_scripts", 0},
		{"used_memory_scripts_human", "0B"},
		{"maxmemory", maxmem}, {"maxmemory_human", bytesToHuman(maxmem)}, {"maxmemory_policy", "noeviction"},
		{"allocator_frag_ratio", r2(m.active, m.objects)}, {"allocator_frag_bytes", int64(m.active - m.objects)},
		{"allocator_rss_ratio", r2(m.resident, m.active)}, {"allocator_rss_bytes", int64(m.resident) - int64(m.active)},
		{"rss_overhead_ratio", r2(m.rss, m.resident)}, {"rss_overhead_bytes", int64(m.rss) - int64(m.resident)},
		{"mem_fragmentation_ratio", r2(m.rss, m.used)}, {"mem_fragmentation_bytes", int64(m.rss) - int64(m.used)},
		{"mem_not_counted_for_evict", 0}, {"mem_replication_backlog", 0}, {"mem_total_replication_buffers", 0},
		{"mem_clients_slaves", 0}, {"mem_clients_normal", m.clients}, {"mem_cluster_links", 0},
		{"mem_aof_buffer", 0}, {"mem_allocator", "go-" + runtime.Version()},
		{"active_defrag_running", 0}, {"lazyfree_pending_objects", 0}, {"lazyfreed_objects", 0},
		{"walkv_go_runtime_bytes", m.runtimeTotal},
		{"maxmemory_clients", srv.lim.maxMemClients.Load()},
	}
}
