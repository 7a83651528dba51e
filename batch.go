package wal

// Batch collects entries to be written as one unit by WriteBatch or
// AppendBatch: after a crash either all of them are in the log or none.
// A Batch copies the data it is given; Clear keeps its memory for reuse, so
// a reused Batch allocates nothing in steady state.
type Batch struct {
	// Sync forces durability for this batch even when the log's policy is
	// SyncInterval or SyncNever: the write returns once the batch is
	// durable (etcd's MustSync).
	Sync    bool
	entries []batchEntry
	data    []byte
}

type batchEntry struct {
	index uint64
	size  int
}

// Write adds an entry with an explicit index (for WriteBatch).
func (b *Batch) Write(index uint64, data []byte) {
	b.entries = append(b.entries, batchEntry{index: index, size: len(data)})
	b.data = append(b.data, data...)
}

// Append adds an entry whose index AppendBatch assigns.
func (b *Batch) Append(data []byte) { b.Write(0, data) }

// Len returns the number of entries in the batch.
func (b *Batch) Len() int { return len(b.entries) }

// Clear empties the batch, keeping its memory; Sync is reset to false.
func (b *Batch) Clear() {
	b.entries, b.data, b.Sync = b.entries[:0], b.data[:0], false
}
