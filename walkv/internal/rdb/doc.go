// Package rdb decodes and encodes values in Redis's DUMP/RESTORE
// serialization format, as redis-server 7.0 writes and reads it.
//
// A payload is one RDB object followed by a footer:
//
//	+-----------+--------------------+---------------------+-------------------+
//	| type byte | object (rdb.c)     | RDB version, 2 B LE | CRC-64, 8 B LE    |
//	+-----------+--------------------+---------------------+-------------------+
//	|<------------- covered by the CRC -------------------->|
//
// The CRC is Redis's crc64 (Jones polynomial 0xad93d23594c935a9, reflected,
// initial value 0, no final xor). Redis 7.0 writes RDB version 10 and
// refuses a payload whose version is newer; so does Decode.
//
// Decode accepts every encoding redis-server 7.0 reads for strings, lists,
// sets, hashes and sorted sets: strings raw, integer-encoded or
// LZF-compressed; lists as LIST, ZIPLIST, QUICKLIST (ziplist nodes) and
// QUICKLIST_2 (listpack or plain nodes); sets as SET and INTSET; hashes as
// HASH, ZIPMAP, ZIPLIST and LISTPACK; sorted sets as ZSET (text scores),
// ZSET_2 (binary scores), ZIPLIST and LISTPACK. Streams and module values
// are ErrUnsupported. Encode writes the plain encodings (STRING, LIST,
// SET, HASH, ZSET_2), which redis-server 7.0 and later restore.
//
// Decoding validates the whole payload before returning: every length is
// checked against the bytes that remain before anything is allocated for
// it (a compressed string's size against the most LZF can expand its
// input), containers are checked as Redis's deep sanitization does
// (header sizes and counts, entry back-lengths, sorted intsets), and
// duplicates and empty collections are refused, as Redis refuses them.
// The decoded value may alias the payload: it is valid while the payload
// is not modified.
package rdb

import "errors"

// Errors of Decode. Each wraps a detail with %w, so test with errors.Is.
var (
	// ErrFooter: the payload is too short for its footer, its RDB version
	// is newer than 7.0's, or its checksum does not match (RESTORE's "DUMP
	// payload version or checksum are wrong").
	ErrFooter = errors.New("rdb: payload version or checksum are wrong")
	// ErrBadFormat: the object does not decode (RESTORE's "Bad data
	// format"): a truncated or malformed encoding, an unknown type, an
	// empty collection, a duplicate member or a NaN score.
	ErrBadFormat = errors.New("rdb: bad data format")
	// ErrUnsupported: a well-formed type that this package does not decode
	// (streams, modules).
	ErrUnsupported = errors.New("rdb: unsupported value type")
	// ErrTooLarge: the decoded value would exceed the caller's size limit.
	ErrTooLarge = errors.New("rdb: value too large")
)

// Version is the RDB version Redis 7.0 writes and the newest Decode
// accepts.
const Version = 10

// RDB object types (Redis's rdb.h). Never change them: they are Redis's
// format.
const (
	typeString          = 0
	typeList            = 1
	typeSet             = 2
	typeZSet            = 3
	typeHash            = 4
	typeZSet2           = 5
	typeModule          = 6
	typeModule2         = 7
	typeHashZipmap      = 9
	typeListZiplist     = 10
	typeSetIntset       = 11
	typeZSetZiplist     = 12
	typeHashZiplist     = 13
	typeListQuicklist   = 14
	typeStreamListpacks = 15
	typeHashListpack    = 16
	typeZSetListpack    = 17
	typeListQuicklist2  = 18
	typeStreamListpack2 = 19
)

// Kind is the Redis type of a decoded value.
type Kind uint8

// The kinds of values.
const (
	String Kind = iota + 1
	List
	Set
	Hash
	ZSet
)

// Value is a decoded value.
type Value struct {
	Kind Kind
	// Str is a String's bytes.
	Str []byte
	// Elems are a List's elements in order, a Set's members (distinct),
	// or a Hash's fields and values alternating (distinct fields).
	Elems [][]byte
	// Entries are a ZSet's members (distinct) and scores (never NaN).
	Entries []ZEntry
	// Listpack reports, for a ZSet, whether redis-server 7.0 with its
	// default zset-max-listpack-* settings holds the restored set as a
	// listpack (which shows in its replies: a listpack keeps no -0).
	Listpack bool
}

// ZEntry is a sorted set's member and score.
type ZEntry struct {
	Member []byte
	Score  float64
}

// Redis 7.0's default zset-max-listpack-entries and -value, which decide
// the encoding of a restored sorted set (rdbLoadObject).
const (
	zsetListpackEntries = 128
	zsetListpackValue   = 64
)
