package journal

import (
	"encoding/binary"
	"sync"

	"github.com/bits-and-blooms/bloom/v3"
)

// keyFilterFP is the key filter's false-positive rate at its capacity: the
// share of fresh events whose key is still looked up in the database.
const keyFilterFP = 0.01

// keyFilterMin is the smallest capacity the filter is built for (about
// 1.2 MiB at keyFilterFP).
const keyFilterMin = 1 << 20

// keyFilter answers "is this idempotency key certainly not stored?" from
// memory, so that the usual event — a fresh key — costs no database query
// before its commit (a lookup on a read connection whose page cache the
// last commit invalidated cost 40-150 us, as much as the commit). It is a
// Bloom filter of every key stored since open, built from the keys table
// in the background at open; until then every key is looked up. Keys that
// retention deletes stay in it: they only cost a lookup. It holds each
// key's keyHash, which a journal with hashed keys (keys.go) stores in
// place of the key.
type keyFilter struct {
	mu sync.Mutex
	// f is the filter; nil until built.
	f *bloom.BloomFilter
	// pending collects the keys' hashes added while the filter is being
	// built.
	pending []int64
}

// filterEntry is what the filter holds for a key whose keyHash is h.
func filterEntry(h int64) []byte {
	return binary.LittleEndian.AppendUint64(make([]byte, 0, 8), uint64(h))
}

// add records keys just stored.
func (kf *keyFilter) add(keys []string) {
	kf.mu.Lock()
	defer kf.mu.Unlock()
	for _, k := range keys {
		if kf.f == nil {
			kf.pending = append(kf.pending, keyHash(k))
			continue
		}
		kf.f.Add(filterEntry(keyHash(k)))
	}
}

// maybeStored returns the keys that may be stored: all of them until the
// filter is built, else those the filter does not rule out.
func (kf *keyFilter) maybeStored(keys []string) []string {
	kf.mu.Lock()
	defer kf.mu.Unlock()
	if kf.f == nil {
		return keys
	}
	var out []string
	for _, k := range keys {
		if kf.f.Test(filterEntry(keyHash(k))) {
			out = append(out, k)
		}
	}
	return out
}

// install makes f, holding the stored keys read at open, the filter, with
// the keys added meanwhile.
func (kf *keyFilter) install(f *bloom.BloomFilter) {
	kf.mu.Lock()
	defer kf.mu.Unlock()
	for _, h := range kf.pending {
		f.Add(filterEntry(h))
	}
	kf.pending = nil
	kf.f = f
}

// buildKeyFilter reads every stored key into a new filter sized for twice
// their number (at least keyFilterMin) and installs it. It runs in the
// background from Open; stop aborts it (lookups then keep going to the
// database).
func (j *Journal) buildKeyFilter() {
	defer j.done.Done()
	size, read := `SELECT COALESCE(MAX(seq) - MIN(seq) + 1, 0) FROM keys`, `SELECT k FROM keys`
	if j.hashedKeys {
		size, read = `SELECT COUNT(*) FROM key_hashes`, `SELECT h FROM key_hashes`
	}
	var n0 int64
	if err := j.r.QueryRow(size).Scan(&n0); err != nil {
		j.log.Warn("cannot size the idempotency key filter; keys are looked up in the journal", "error", err)
		return
	}
	f := bloom.NewWithEstimates(uint(max(2*n0, keyFilterMin)), keyFilterFP)
	rows, err := j.r.Query(read)
	if err != nil {
		j.log.Warn("cannot read the idempotency keys into the filter; keys are looked up in the journal", "error", err)
		return
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var k any
		if err := rows.Scan(&k); err != nil {
			j.log.Warn("cannot read the idempotency keys into the filter; keys are looked up in the journal", "error", err)
			return
		}
		switch k := k.(type) {
		case int64:
			f.Add(filterEntry(k))
		case string:
			f.Add(filterEntry(keyHash(k)))
		case []byte:
			f.Add(filterEntry(keyHash(string(k))))
		}
		if n++; n%4096 == 0 && j.stopping() {
			return
		}
	}
	if err := rows.Err(); err != nil {
		j.log.Warn("cannot read the idempotency keys into the filter; keys are looked up in the journal", "error", err)
		return
	}
	j.kf.install(f)
	j.log.Debug("idempotency key filter built", "keys", n)
}
