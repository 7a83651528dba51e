package raftlog

// StableKeys returns a copy of every key and value of the stable store
// (for tools such as package boltmigrate; raft uses Get).
func (s *Store) StableKeys() (map[string][]byte, error) {
	kv, err := s.stable.load()
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(kv))
	for k, v := range kv {
		out[k] = append([]byte{}, v...)
	}
	return out, nil
}

// SetAll stores every key and value of kv, keeping the other keys, in one
// atomic replacement of the stable file: when it returns nil all are
// durable, and a crash leaves either none or all of them (see Set).
func (s *Store) SetAll(kv map[string][]byte) error {
	c := make(map[string][]byte, len(kv))
	for k, v := range kv {
		c[k] = append([]byte{}, v...)
	}
	return s.stable.set(c)
}
