package main

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// The crash test's model: what one client's keys hold after each of its
// operations. Every client owns its keys, so its operations apply in the
// order it sends them, whatever the others do, and the state of its keys
// after a crash must be the model's state after some prefix of its
// operations: at least those acknowledged as durable, at most those sent.

// mval is the model of one key.
type mval struct {
	kind    string             // TYPE's answer
	str     string             // kind "string"
	list    []string           // kind "list"
	members map[string]float64 // kind "set" (scores 0) and "zset"
	fields  map[string]string  // kind "hash"
	ttl     bool               // a deadline is set (always far in the future)
}

// mstate is the model of one client's keys; absent keys are missing.
type mstate map[string]*mval

func (s mstate) clone() mstate {
	c := make(mstate, len(s))
	for k, v := range s {
		cv := *v
		cv.list = slices.Clone(v.list)
		cv.members = maps.Clone(v.members)
		cv.fields = maps.Clone(v.fields)
		c[k] = &cv
	}
	return c
}

// get returns key's value, creating an empty one of kind if absent.
func (s mstate) get(key, kind string) *mval {
	v := s[key]
	if v == nil {
		v = &mval{kind: kind, members: map[string]float64{}, fields: map[string]string{}}
		s[key] = v
	}
	return v
}

// tidy deletes key if its collection became empty, as Redis does.
func (s mstate) tidy(key string) {
	if v := s[key]; v != nil && v.kind != "string" && len(v.list)+len(v.members)+len(v.fields) == 0 {
		delete(s, key)
	}
}

// canon renders a key's value as the crash test reads it back.
func canon(v *mval) string {
	if v == nil {
		return "none"
	}
	var body string
	switch v.kind {
	case "string":
		body = v.str
	case "list":
		body = strings.Join(v.list, ",")
	case "set", "zset":
		var parts []string
		for m, sc := range v.members {
			parts = append(parts, m+"="+strconv.FormatFloat(sc, 'g', -1, 64))
		}
		slices.Sort(parts)
		body = strings.Join(parts, ",")
	case "hash":
		var parts []string
		for f, x := range v.fields {
			parts = append(parts, f+"="+x)
		}
		slices.Sort(parts)
		body = strings.Join(parts, ",")
	}
	return fmt.Sprintf("%s[%s] ttl=%v", v.kind, body, v.ttl)
}

// canonState renders the keys of client w.
func canonState(s mstate, w int) map[string]string {
	out := map[string]string{}
	for _, k := range clientKeys(w) {
		out[k] = canon(s[k])
	}
	return out
}

// clientKeys are the names of client w's keys.
func clientKeys(w int) []string {
	ks := []string{}
	for i := range 4 {
		ks = append(ks, fmt.Sprintf("s%d-%d", w, i))
	}
	for _, n := range []string{"n", "h", "la", "lb", "st", "sp", "z", "tmp", "ex"} {
		ks = append(ks, fmt.Sprint(n, w))
	}
	return ks
}

// mop is one operation of a client: one command, or several in
// MULTI/EXEC; apply is its effect on the model.
type mop struct {
	cmds  [][]any
	multi bool
	apply func(mstate)
}

// popList pops an element of list key (left or right end) in s.
func popList(s mstate, key string, left bool) (string, bool) {
	v := s[key]
	if v == nil {
		return "", false
	}
	var e string
	if left {
		e, v.list = v.list[0], v.list[1:]
	} else {
		e, v.list = v.list[len(v.list)-1], v.list[:len(v.list)-1]
	}
	s.tidy(key)
	return e, true
}

// lmove moves an element from src's left end to dst's right end.
func lmove(s mstate, src, dst string) {
	if e, ok := popList(s, src, true); ok {
		d := s.get(dst, "list")
		d.list = append(d.list, e)
	}
}

// zpopmin removes the member with the lowest score (ties: the lowest
// member), as ZPOPMIN.
func zpopmin(s mstate, key string) {
	v := s[key]
	if v == nil {
		return
	}
	var best string
	first := true
	for m, sc := range v.members {
		if first || sc < v.members[best] || (sc == v.members[best] && m < best) {
			best, first = m, false
		}
	}
	delete(v.members, best)
	s.tidy(key)
}

// nextOp returns client w's operation number i, drawn by r, for the state
// s it will apply to (the state after every earlier operation).
func nextOp(r *rand.Rand, w int, i int64, s mstate) mop {
	k := func(n string) string { return fmt.Sprint(n, w) }
	val := strconv.FormatInt(i, 10)
	m := fmt.Sprint("m", r.IntN(8))
	switch r.IntN(22) {
	case 0, 1:
		key := fmt.Sprintf("s%d-%d", w, r.IntN(4))
		return mop{cmds: [][]any{{"SET", key, val}}, apply: func(s mstate) {
			v := s.get(key, "string")
			v.str, v.ttl = val, false
		}}
	case 2:
		return mop{cmds: [][]any{{"INCR", k("n")}}, apply: incr(k("n"), 1)}
	case 3:
		f := fmt.Sprint("f", r.IntN(6))
		return mop{cmds: [][]any{{"HSET", k("h"), f, val}}, apply: func(s mstate) { s.get(k("h"), "hash").fields[f] = val }}
	case 4:
		f := fmt.Sprint("f", r.IntN(6))
		return mop{cmds: [][]any{{"HDEL", k("h"), f}}, apply: func(s mstate) {
			if v := s[k("h")]; v != nil {
				delete(v.fields, f)
				s.tidy(k("h"))
			}
		}}
	case 5:
		return mop{cmds: [][]any{{"HINCRBY", k("h"), "c", 3}}, apply: func(s mstate) {
			v := s.get(k("h"), "hash")
			n, _ := strconv.Atoi(v.fields["c"])
			v.fields["c"] = strconv.Itoa(n + 3)
		}}
	case 6, 7:
		left := r.IntN(2) == 0
		cmd := map[bool]string{true: "LPUSH", false: "RPUSH"}[left]
		return mop{cmds: [][]any{{cmd, k("la"), val}}, apply: func(s mstate) {
			v := s.get(k("la"), "list")
			if left {
				v.list = append([]string{val}, v.list...)
			} else {
				v.list = append(v.list, val)
			}
		}}
	case 8:
		left := r.IntN(2) == 0
		key := k(map[bool]string{true: "la", false: "lb"}[r.IntN(2) == 0])
		cmd := map[bool]string{true: "LPOP", false: "RPOP"}[left]
		return mop{cmds: [][]any{{cmd, key}}, apply: func(s mstate) { popList(s, key, left) }}
	case 9:
		src, dst := k("la"), k("lb")
		if r.IntN(2) == 0 {
			src, dst = dst, src
		}
		return mop{cmds: [][]any{{"LMOVE", src, dst, "LEFT", "RIGHT"}}, apply: func(s mstate) { lmove(s, src, dst) }}
	case 10:
		return mop{cmds: [][]any{{"LTRIM", k("la"), 0, 11}}, apply: func(s mstate) {
			if v := s[k("la")]; v != nil && len(v.list) > 12 {
				v.list = v.list[:12]
			}
		}}
	case 11:
		return mop{cmds: [][]any{{"SADD", k("st"), m}}, apply: func(s mstate) { s.get(k("st"), "set").members[m] = 0 }}
	case 12:
		return mop{cmds: [][]any{{"SREM", k("st"), m}}, apply: func(s mstate) {
			if v := s[k("st")]; v != nil {
				delete(v.members, m)
				s.tidy(k("st"))
			}
		}}
	case 13:
		// SPOP of a set of one member: its effect is known even if the
		// reply is lost.
		if s[k("sp")] != nil {
			return mop{cmds: [][]any{{"SPOP", k("sp")}}, apply: func(s mstate) { delete(s, k("sp")) }}
		}
		return mop{cmds: [][]any{{"SADD", k("sp"), val}}, apply: func(s mstate) { s.get(k("sp"), "set").members[val] = 0 }}
	case 14:
		sc := r.IntN(5)
		return mop{cmds: [][]any{{"ZADD", k("z"), sc, m}}, apply: func(s mstate) { s.get(k("z"), "zset").members[m] = float64(sc) }}
	case 15:
		return mop{cmds: [][]any{{"ZINCRBY", k("z"), 1.5, m}}, apply: func(s mstate) { s.get(k("z"), "zset").members[m] += 1.5 }}
	case 16:
		return mop{cmds: [][]any{{"ZREM", k("z"), m}}, apply: func(s mstate) {
			if v := s[k("z")]; v != nil {
				delete(v.members, m)
				s.tidy(k("z"))
			}
		}}
	case 17:
		return mop{cmds: [][]any{{"ZPOPMIN", k("z")}}, apply: func(s mstate) { zpopmin(s, k("z")) }}
	case 18:
		// Expiry: a key that dies at once (it must stay dead after a
		// restart) or lives (its value and deadline must survive).
		if r.IntN(2) == 0 {
			return mop{cmds: [][]any{{"SET", k("tmp"), val, "PX", 1}}, apply: func(s mstate) { delete(s, k("tmp")) }}
		}
		return mop{cmds: [][]any{{"SET", k("tmp"), val}}, apply: func(s mstate) { *s.get(k("tmp"), "string") = mval{kind: "string", str: val} }}
	case 19:
		switch {
		case s[k("ex")] == nil || r.IntN(3) == 0:
			return mop{cmds: [][]any{{"SET", k("ex"), val, "EX", 3600}}, apply: func(s mstate) {
				*s.get(k("ex"), "string") = mval{kind: "string", str: val, ttl: true}
			}}
		case r.IntN(2) == 0:
			return mop{cmds: [][]any{{"PERSIST", k("ex")}}, apply: func(s mstate) { s[k("ex")].ttl = false }}
		}
		return mop{cmds: [][]any{{"PEXPIRE", k("ex"), 3_600_000}}, apply: func(s mstate) { s[k("ex")].ttl = true }}
	}
	// A transaction across types: all of it or nothing.
	m2 := fmt.Sprint("m", r.IntN(8))
	return mop{multi: true, cmds: [][]any{
		{"LMOVE", k("la"), k("lb"), "LEFT", "RIGHT"}, {"ZINCRBY", k("z"), 2, m}, {"SADD", k("st"), m2},
		{"INCR", k("n")}, {"HSET", k("h"), "t", val}, {"RPUSH", k("la"), val},
	}, apply: func(s mstate) {
		lmove(s, k("la"), k("lb"))
		s.get(k("z"), "zset").members[m] += 2
		s.get(k("st"), "set").members[m2] = 0
		incr(k("n"), 1)(s)
		s.get(k("h"), "hash").fields["t"] = val
		v := s.get(k("la"), "list")
		v.list = append(v.list, val)
	}}
}

// incr returns the model of INCRBY key by.
func incr(key string, by int) func(mstate) {
	return func(s mstate) {
		v := s.get(key, "string")
		n, _ := strconv.Atoi(v.str)
		v.str = strconv.Itoa(n + by)
	}
}
