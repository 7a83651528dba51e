package rdb

import (
	"encoding/binary"
	"fmt"
	"math"
)

// CheckFooter verifies a payload's footer as Redis's verifyDumpPayload
// does: room for it, an RDB version no newer than Version, and the CRC of
// everything before the CRC. It returns the object part (type byte and
// object).
func CheckFooter(payload []byte) ([]byte, error) {
	if len(payload) < 10 {
		return nil, fmt.Errorf("%w: %d bytes", ErrFooter, len(payload))
	}
	footer := payload[len(payload)-10:]
	if v := binary.LittleEndian.Uint16(footer); v > Version {
		return nil, fmt.Errorf("%w: RDB version %d", ErrFooter, v)
	}
	if CRC64(payload[:len(payload)-8]) != binary.LittleEndian.Uint64(footer[2:]) {
		return nil, fmt.Errorf("%w: checksum", ErrFooter)
	}
	return payload[:len(payload)-10], nil
}

// Decode verifies payload's footer and decodes its value. maxBytes bounds
// the decoded strings' total size (ErrTooLarge beyond). As in Redis, the
// object is read from the whole payload: bytes after it are ignored, and
// an object that runs into the footer takes the footer's bytes as its own
// (RESTORE reads it from a buffer holding the payload, footer included).
func Decode(payload []byte, maxBytes int) (*Value, error) {
	if _, err := CheckFooter(payload); err != nil {
		return nil, err
	}
	r := &reader{b: payload, budget: maxBytes}
	t, err := r.byte()
	if err != nil {
		return nil, err
	}
	return r.object(t)
}

// object decodes an object of RDB type t (rdbLoadObject).
func (r *reader) object(t byte) (*Value, error) {
	switch t {
	case typeString:
		s, err := r.str()
		return &Value{Kind: String, Str: s}, err
	case typeList, typeListZiplist, typeListQuicklist, typeListQuicklist2:
		return r.list(t)
	case typeSet, typeSetIntset:
		return r.set(t)
	case typeHash, typeHashZipmap, typeHashZiplist, typeHashListpack:
		return r.hash(t)
	case typeZSet, typeZSet2, typeZSetZiplist, typeZSetListpack:
		return r.zset(t)
	case typeModule, typeModule2, typeStreamListpacks, typeStreamListpack2:
		return nil, fmt.Errorf("%w: RDB type %d", ErrUnsupported, t)
	}
	return nil, fmt.Errorf("%w: RDB type %d", ErrBadFormat, t)
}

// strings reads n string objects.
func (r *reader) strings(n int, dst [][]byte) ([][]byte, error) {
	for range n {
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		dst = append(dst, s)
	}
	return dst, nil
}

// Quicklist node containers (quicklist.h).
const (
	containerPlain  = 1
	containerPacked = 2
)

func (r *reader) list(t byte) (*Value, error) {
	v := &Value{Kind: List}
	var err error
	switch t {
	case typeList:
		var n int
		if n, err = r.count(); err == nil {
			v.Elems, err = r.strings(n, make([][]byte, 0, n))
		}
	case typeListZiplist:
		var zl []byte
		if zl, err = r.str(); err == nil {
			v.Elems, err = r.ziplist(zl, nil)
		}
	default:
		v.Elems, err = r.quicklist(t == typeListQuicklist2)
	}
	if err == nil && len(v.Elems) == 0 {
		err = fmt.Errorf("%w: empty list", ErrBadFormat)
	}
	return v, err
}

// quicklist reads the nodes of a QUICKLIST (ziplists) or QUICKLIST_2
// (a container kind, then a listpack or one plain element).
func (r *reader) quicklist(v2 bool) ([][]byte, error) {
	nodes, err := r.count()
	if err != nil {
		return nil, err
	}
	var elems [][]byte
	for range nodes {
		container := uint64(containerPacked)
		if v2 {
			if container, err = r.plainLength(); err != nil {
				return nil, err
			}
			if container != containerPlain && container != containerPacked {
				return nil, fmt.Errorf("%w: quicklist container %d", ErrBadFormat, container)
			}
		}
		data, err := r.str()
		if err != nil {
			return nil, err
		}
		switch {
		case len(data) == 0:
			return nil, fmt.Errorf("%w: empty quicklist node", ErrBadFormat)
		case container == containerPlain:
			elems = append(elems, data)
		case v2:
			elems, err = r.listpack(data, elems)
		default:
			elems, err = r.ziplist(data, elems)
		}
		if err != nil {
			return nil, err
		}
	}
	return elems, nil
}

func (r *reader) set(t byte) (*Value, error) {
	v := &Value{Kind: Set}
	var err error
	if t == typeSet {
		var n int
		if n, err = r.count(); err == nil {
			v.Elems, err = r.strings(n, make([][]byte, 0, n))
		}
	} else {
		var is []byte
		if is, err = r.str(); err == nil {
			v.Elems, err = r.intset(is, nil)
		}
	}
	if err == nil {
		err = distinct(v.Elems, 1, "set member")
	}
	return v, err
}

func (r *reader) hash(t byte) (*Value, error) {
	v := &Value{Kind: Hash}
	var err error
	if t == typeHash {
		var n int
		if n, err = r.count(); err == nil && n > r.rest()/2 {
			err = fmt.Errorf("%w: %d pairs with %d bytes left", ErrBadFormat, n, r.rest())
		}
		if err == nil {
			v.Elems, err = r.strings(2*n, make([][]byte, 0, 2*n))
		}
	} else {
		v.Elems, err = r.packedPairs(t == typeHashZipmap, t == typeHashListpack)
	}
	if err == nil {
		err = distinct(v.Elems, 2, "hash field")
	}
	return v, err
}

// packedPairs reads a zipmap, ziplist or listpack of pairs (field and
// value, or member and score).
func (r *reader) packedPairs(isZipmap, isListpack bool) ([][]byte, error) {
	data, err := r.str()
	if err != nil {
		return nil, err
	}
	var elems [][]byte
	switch {
	case isZipmap:
		elems, err = zipmap(data, nil)
	case isListpack:
		elems, err = r.listpack(data, nil)
	default:
		elems, err = r.ziplist(data, nil)
	}
	if err == nil && (len(elems) == 0 || len(elems)%2 != 0) {
		err = fmt.Errorf("%w: %d entries where pairs belong", ErrBadFormat, len(elems))
	}
	return elems, err
}

func (r *reader) zset(t byte) (*Value, error) {
	v := &Value{Kind: ZSet}
	var err error
	if t == typeZSet || t == typeZSet2 {
		v.Entries, err = r.zsetEntries(t == typeZSet2)
		if err == nil {
			v.Listpack = len(v.Entries) <= zsetListpackEntries && maxMember(v.Entries) <= zsetListpackValue
		}
	} else {
		var elems [][]byte
		if elems, err = r.packedPairs(false, t == typeZSetListpack); err == nil {
			v.Entries = make([]ZEntry, len(elems)/2)
			for i := range v.Entries {
				v.Entries[i] = ZEntry{Member: elems[2*i], Score: packedScore(elems[2*i+1])}
			}
			v.Listpack = len(v.Entries) <= zsetListpackEntries
		}
	}
	if err != nil {
		return v, err
	}
	members := make([][]byte, len(v.Entries))
	for i, e := range v.Entries {
		if math.IsNaN(e.Score) {
			return v, fmt.Errorf("%w: NaN score", ErrBadFormat)
		}
		members[i] = e.Member
	}
	return v, distinct(members, 1, "sorted set member")
}

// zsetEntries reads a ZSET or ZSET_2 body: a count, then each member and
// its score (text or binary).
func (r *reader) zsetEntries(binaryScores bool) ([]ZEntry, error) {
	n, err := r.count()
	if err != nil {
		return nil, err
	}
	es := make([]ZEntry, 0, n)
	for range n {
		m, err := r.str()
		if err != nil {
			return nil, err
		}
		var s float64
		if binaryScores {
			s, err = r.binaryScore()
		} else {
			s, err = r.textScore()
		}
		if err != nil {
			return nil, err
		}
		es = append(es, ZEntry{Member: m, Score: s})
	}
	return es, nil
}

// packedScore is a score as a ziplist or listpack holds it: an integer,
// or text that Redis reads with strtod from at most 127 bytes, 0 if it
// is not a number (zzlStrtod).
func packedScore(p []byte) float64 {
	if len(p) > 127 {
		p = p[:127]
	}
	f, _ := parseCFloat(p)
	return f
}

func maxMember(es []ZEntry) int {
	m := 0
	for _, e := range es {
		m = max(m, len(e.Member))
	}
	return m
}

// distinct checks that elems[0], elems[step], elems[2*step]... differ.
func distinct(elems [][]byte, step int, what string) error {
	seen := make(map[string]struct{}, len(elems)/step)
	for i := 0; i < len(elems); i += step {
		if _, dup := seen[string(elems[i])]; dup {
			return fmt.Errorf("%w: duplicate %s %q", ErrBadFormat, what, elems[i])
		}
		seen[string(elems[i])] = struct{}{}
	}
	if len(seen) == 0 {
		return fmt.Errorf("%w: empty %s collection", ErrBadFormat, what)
	}
	return nil
}
