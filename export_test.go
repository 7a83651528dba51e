package wal

// WithDirectMin returns o with the unexported directMin set: the entry size
// from which payloads are written from the caller's slice (write_direct.go);
// negative: never.
func WithDirectMin(o Options, n int) *Options {
	o.directMin = n
	return &o
}
