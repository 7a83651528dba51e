package rdb

import "hash/crc64"

// jonesTable is the table of Redis's CRC-64: the Jones polynomial
// 0xad93d23594c935a9, reflected (hash/crc64 takes the reversed form).
var jonesTable = crc64.MakeTable(0x95ac9329ac4bc9b5)

// CRC64 returns Redis's crc64(0, p): initial value 0 and no final xor,
// where hash/crc64 inverts both, hence the complements.
func CRC64(p []byte) uint64 { return ^crc64.Update(^uint64(0), jonesTable, p) }
