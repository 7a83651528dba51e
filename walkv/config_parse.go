package walkv

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Parsing and printing of configuration values, with redis-server 7.0's
// rules and error texts (the texts follow "CONFIG SET failed (possibly
// related to argument '<name>') - "). Each parser is a pure function from
// the new value (and, for a parameter set in parts, the current one) to
// the canonical value CONFIG GET prints afterwards, so that CONFIG SET can
// validate every pair before it changes anything.

// parseParam validates v for p and returns its canonical form, or Redis's
// error text for it.
func parseParam(p *param, v, cur string) (string, string) {
	switch p.kind {
	case pBool:
		return parseBool(p, v)
	case pString:
		if why := checkString(p.name, v); why != "" {
			return "", why
		}
		return v, ""
	case pEnum:
		return parseEnum(p, v)
	case pInt:
		n, msg := parseNumber(p, v)
		if msg != "" {
			return "", msg
		}
		return formatNumber(p, n), ""
	}
	if f := specialParams[p.name]; f != nil {
		return f(v, cur)
	}
	return v, ""
}

func parseBool(p *param, v string) (string, string) {
	switch {
	case strings.EqualFold(v, "yes"):
		if p.has(fNoDefrag) {
			return "", "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"
		}
		return "yes", ""
	case strings.EqualFold(v, "no"):
		return "no", ""
	}
	return "", "argument must be 'yes' or 'no'"
}

// checkString validates the string parameters that Redis validates and
// can be set at run time.
func checkString(name, v string) string {
	switch name {
	case "cluster-announce-hostname":
		if len(v) >= 256 {
			return "Hostnames must be less than 256 characters"
		}
		for _, c := range []byte(v) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
				return "Hostnames may only contain alphanumeric characters, hyphens or dots"
			}
		}
	case "proc-title-template":
		if !validProcTitle(v) {
			return "template format is invalid or contains unknown variables"
		}
	}
	return ""
}

// validProcTitle reports whether t expands (with an empty title) to a
// non-blank process title: its {variables} are known and closed, "{{"
// quotes a brace.
func validProcTitle(t string) bool {
	var out strings.Builder
	for t != "" {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			out.WriteString(t)
			break
		}
		out.WriteString(t[:i])
		t = t[i+1:]
		if t == "" {
			return false
		}
		if t[0] == '{' {
			out.WriteByte('{')
			t = t[1:]
			continue
		}
		j := strings.IndexByte(t, '}')
		if j < 0 {
			return false
		}
		switch t[:j] {
		case "title", "server-mode", "unixsocket":
		case "listen-addr", "config-file", "port", "tls-port":
			out.WriteString("x") // never empty
		default:
			return false
		}
		t = t[j+1:]
	}
	return strings.Trim(out.String(), " ") != ""
}

// splitArgs splits a several-word value as Redis does: at every single
// space (so two spaces make an empty word); "" has no words.
func splitArgs(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, " ")
}

func parseEnum(p *param, v string) (string, string) {
	args := []string{v}
	if p.has(fMulti) {
		args = splitArgs(v)
	}
	val, ok := 0, len(args) > 0
	for _, a := range args {
		matched := false
		for _, e := range p.enum {
			if strings.EqualFold(a, e.name) {
				val |= e.val
				matched = true
			}
		}
		ok = ok && matched
	}
	if !ok {
		names := make([]string, len(p.enum))
		for i, e := range p.enum {
			names[i] = e.name
		}
		return "", "argument(s) must be one of the following: " + strings.Join(names, ", ")
	}
	if p.has(fMulti) && val&1 != 0 && val&2 != 0 { // shutdown-on-sig*: save and nosave
		return "", "shutdown options SAVE and NOSAVE can't be used simultaneously"
	}
	return enumName(p, val), ""
}

// enumName prints an enum value: the first name with that value, or for
// bit flags the names of its bits in table order.
func enumName(p *param, val int) string {
	var names []string
	left := val
	for _, e := range p.enum {
		if e.val == val {
			return e.name
		}
		if p.has(fMulti) && e.val != 0 && left&e.val == e.val {
			names = append(names, e.name)
			left &^= e.val
		}
	}
	if names == nil || left != 0 {
		return "unknown"
	}
	return strings.Join(names, " ")
}

// parseNumber parses a numeric parameter (memory units, percentages,
// octal, or a plain integer, as its flags allow) and checks its bounds.
func parseNumber(p *param, v string) (int64, string) {
	n, ok := int64(0), false
	if p.has(fMemory) {
		var u uint64
		u, ok = memToUint(v)
		n = int64(u) // C converts unsigned long long to long long: wraps
	}
	if !ok && p.has(fPercent) && len(v) > 1 && v[len(v)-1] == '%' {
		if x, good := parseInt([]byte(v[:len(v)-1])); good && x >= 0 {
			n, ok = -x, true
		}
	}
	if !ok && p.has(fOctal) {
		x, err := strconv.ParseInt(v, 8, 64)
		n, ok = x, err == nil
	}
	if !ok && !p.has(fMemory|fPercent|fOctal) {
		n, ok = parseInt([]byte(v))
	}
	if !ok {
		switch {
		case p.has(fMemory) && p.has(fPercent):
			return 0, "argument must be a memory or percent value"
		case p.has(fMemory):
			return 0, "argument must be a memory value"
		case p.has(fOctal):
			return 0, "argument couldn't be parsed as an octal number"
		}
		return 0, "argument couldn't be parsed into an integer"
	}
	return n, checkBounds(p, n)
}

func checkBounds(p *param, n int64) string {
	if p.has(fUnsigned) {
		if uint64(n) < uint64(p.lo) || uint64(n) > uint64(p.hi) {
			if p.has(fOctal) {
				return fmt.Sprintf("argument must be between %o and %o inclusive", uint64(p.lo), uint64(p.hi))
			}
			return fmt.Sprintf("argument must be between %d and %d inclusive", uint64(p.lo), uint64(p.hi))
		}
		return ""
	}
	if p.has(fPercent) && n < 0 {
		if n < p.lo {
			return fmt.Sprintf("percentage argument must be less or equal to %d", -p.lo)
		}
		return ""
	}
	if n < p.lo || n > p.hi {
		return fmt.Sprintf("argument must be between %d and %d inclusive", p.lo, p.hi)
	}
	return ""
}

// formatNumber prints a numeric value as CONFIG GET does.
func formatNumber(p *param, n int64) string {
	switch {
	case p.has(fPercent) && n < 0:
		return strconv.FormatInt(-n, 10) + "%"
	case p.has(fMemory):
		return strconv.FormatUint(uint64(n), 10)
	case p.has(fOctal):
		return strconv.FormatInt(n, 8)
	}
	return strconv.FormatInt(n, 10)
}

// memToUint parses a byte count as Redis's memtoull: digits and an
// optional unit b, k (1000), kb (1024), m, mb, g, gb in any case. As in
// Redis, no digits means 0, a value too large for 64 bits is the largest
// one, and the product with the unit wraps.
func memToUint(s string) (uint64, bool) {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	mul := map[string]uint64{"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000 * 1000, "mb": 1 << 20, "g": 1000 * 1000 * 1000, "gb": 1 << 30}[strings.ToLower(s[i:])]
	if mul == 0 || i >= 128 {
		return 0, false
	}
	var v uint64
	for _, c := range []byte(s[:i]) {
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			v = math.MaxUint64
			break
		}
		v = v*10 + d
	}
	return v * mul, true
}

// cStrtoll is C's strtoll(s, &end, 10): leading white space, a sign,
// digits, saturated at the int64 limits; rest is what follows (all of s
// if there are no digits).
func cStrtoll(s string) (v int64, rest string) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	j := i
	var u uint64
	for j < len(s) && '0' <= s[j] && s[j] <= '9' {
		if u <= 1<<63 {
			u = u*10 + uint64(s[j]-'0')
		}
		j++
	}
	if j == i {
		return 0, s
	}
	switch {
	case neg && u >= 1<<63:
		v = math.MinInt64
	case neg:
		v = -int64(u)
	case u >= 1<<63:
		v = math.MaxInt64
	default:
		v = int64(u)
	}
	return v, s[j:]
}

// specialParams parse the parameters of Redis's own formats.
var specialParams = map[string]func(v, cur string) (string, string){
	"save":                              parseSave,
	"client-output-buffer-limit":        parseOutputBufferLimit,
	"oom-score-adj-values":              parseOOMValues,
	"notify-keyspace-events":            parseNotifyEvents,
	"bind":                              parseBind,
	"latency-tracking-info-percentiles": parsePercentiles,
}

// parseSave: "<seconds> <changes>..." pairs, seconds >= 1, changes >= 0.
func parseSave(v, _ string) (string, string) {
	args := splitArgs(v)
	if len(args)%2 != 0 {
		return "", "Invalid save parameters"
	}
	out := make([]string, len(args))
	for j, a := range args {
		n, rest := cStrtoll(a)
		if rest != "" || j%2 == 0 && n < 1 || j%2 == 1 && n < 0 {
			return "", "Invalid save parameters"
		}
		if j%2 == 1 {
			n = int64(int32(n)) // Redis keeps changes in an int
		}
		out[j] = strconv.FormatInt(n, 10)
	}
	return strings.Join(out, " "), ""
}

// outputClasses are client-output-buffer-limit's classes in print order.
var outputClasses = []string{"normal", "slave", "pubsub"}

// parseOutputBufferLimit: "<class> <hard> <soft> <soft-seconds>..."; the
// classes not named keep their limits (from cur).
func parseOutputBufferLimit(v, cur string) (string, string) {
	args := splitArgs(v)
	if len(args)%4 != 0 {
		return "", "Wrong number of arguments in buffer limit configuration."
	}
	limits := map[string]string{}
	f := strings.Fields(cur)
	for i := 0; i+3 < len(f); i += 4 {
		limits[f[i]] = strings.Join(f[i+1:i+4], " ")
	}
	for i := 0; i < len(args); i += 4 {
		class := strings.ToLower(args[i])
		if class == "replica" {
			class = "slave"
		}
		if class != "normal" && class != "slave" && class != "pubsub" {
			return "", "Invalid client class specified in buffer limit configuration."
		}
		hard, ok1 := memToUint(args[i+1])
		soft, ok2 := memToUint(args[i+2])
		secs, rest := cStrtoll(args[i+3])
		secs = int64(int32(secs)) // an int in Redis
		if !ok1 || !ok2 || secs < 0 || rest != "" {
			return "", "Error in hard, soft or soft_seconds setting in buffer limit configuration."
		}
		limits[class] = fmt.Sprintf("%d %d %d", hard, soft, secs)
	}
	out := make([]string, 0, len(outputClasses))
	for _, c := range outputClasses {
		out = append(out, c+" "+limits[c])
	}
	return strings.Join(out, " "), ""
}

func parseOOMValues(v, _ string) (string, string) {
	args := splitArgs(v)
	if len(args) != 3 {
		return "", "wrong number of arguments"
	}
	out := make([]string, 3)
	for i, a := range args {
		n, rest := cStrtoll(a)
		if rest != "" || n < -2000 || n > 2000 {
			return "", "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
		}
		out[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(out, " "), ""
}

// notifyClasses are notify-keyspace-events' class letters in print
// order; "A" stands for all of allClasses.
const (
	allClasses  = "g$lshzxetd"
	notifyOrder = "g$lshzxetdnKEm"
)

func parseNotifyEvents(v, _ string) (string, string) {
	set := map[byte]bool{}
	for _, c := range []byte(v) {
		switch {
		case c == 'A':
			for _, a := range []byte(allClasses) {
				set[a] = true
			}
		case strings.IndexByte(notifyOrder, c) >= 0:
			set[c] = true
		default:
			return "", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
		}
	}
	var b strings.Builder
	all := true
	for _, a := range []byte(allClasses) {
		all = all && set[a]
	}
	if all {
		b.WriteByte('A')
	}
	for _, c := range []byte(notifyOrder) {
		if all && strings.IndexByte(allClasses, c) >= 0 || !set[c] {
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), ""
}

func parseBind(v, _ string) (string, string) {
	args := splitArgs(v)
	if len(args) > 16 {
		return "", "Too many bind addresses specified."
	}
	if len(args) == 1 && args[0] == "" {
		return "", ""
	}
	return strings.Join(args, " "), ""
}

func parsePercentiles(v, _ string) (string, string) {
	args := splitArgs(v)
	out := make([]string, 0, len(args))
	for _, a := range args {
		f, ok := parseStrictFloat(a)
		if !ok {
			return "", "Invalid latency-tracking-info-percentiles parameters"
		}
		if f > 100 || f < 0 {
			return "", "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
		}
		s := strconv.FormatFloat(f, 'f', 6, 64)
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		out = append(out, s)
	}
	return strings.Join(out, " "), ""
}

// parseStrictFloat parses a float as Redis's string2d: the whole string,
// no leading space, not NaN, not out of range.
func parseStrictFloat(s string) (float64, bool) {
	if s == "" || s[0] == ' ' || s[0] >= '\t' && s[0] <= '\r' {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}
