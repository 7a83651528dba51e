package rdb

import "testing"

// BenchmarkDecode decodes redis-server 7.0's payloads of a 3,000-element
// quicklist, a 600-member set and a long LZF string.
func BenchmarkDecode(b *testing.B) {
	for _, v := range redis70Vectors(b) {
		switch v.name {
		case "list-large", "set-bigints", "str-long":
		default:
			continue
		}
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(int64(len(v.payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(v.payload, 1<<30); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
