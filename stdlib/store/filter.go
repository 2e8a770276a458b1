package store

// Miss filters: a fresh item's Lookup and its CachedResponse are misses,
// and answering a miss with a query costs about as much as writing the
// item. A writable Store holds the file's lock (lock_unix.go), so nothing
// but this process adds results or replies while it is open: what the file
// held at open (read once, at first use) plus what this process has
// written since is everything there is. The filters below record both as
// 8-byte hashes; a key whose hash is absent is a certain miss and costs no
// SQL. A hash that is present (a real entry, or a collision) sends the
// caller to the database, which has the last word, so the filters can only
// save queries, never change an answer. They cost about 12 to 24 bytes per
// entry (an open-addressing table of uint64 at most 3/4 full).
//
// A read-only Store shares the file with a live writer, so it has no
// filters and always queries.

import (
	"context"
	"database/sql"
	"hash/maphash"
	"sync"
)

// hashSet is a set of uint64 in one open-addressing table with linear
// probing; 0 marks an empty slot, so the value 0 is kept aside. With
// withVals it maps each to an int64 as well (hashMap).
type hashSet struct {
	slots    []uint64
	vals     []int64 // parallel to slots, when withVals
	n        int
	hasZero  bool
	zeroVal  int64
	withVals bool
}

func (h *hashSet) has(v uint64) bool {
	_, ok := h.get(v)
	return ok
}

func (h *hashSet) get(v uint64) (int64, bool) {
	if v == 0 {
		return h.zeroVal, h.hasZero
	}
	if len(h.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(h.slots) - 1)
	for i := mix(v) & mask; ; i = (i + 1) & mask {
		switch h.slots[i] {
		case v:
			if h.withVals {
				return h.vals[i], true
			}
			return 0, true
		case 0:
			return 0, false
		}
	}
}

func (h *hashSet) add(v uint64) { h.put(v, 0, false) }

// put adds v; with set, it also sets v's value (kept otherwise).
func (h *hashSet) put(v uint64, val int64, set bool) {
	if v == 0 {
		h.hasZero = true
		if set {
			h.zeroVal = val
		}
		return
	}
	if (h.n+1)*4 > len(h.slots)*3 {
		h.grow()
	}
	if h.insert(v, val, set) {
		h.n++
	}
}

func (h *hashSet) insert(v uint64, val int64, set bool) bool {
	mask := uint64(len(h.slots) - 1)
	for i := mix(v) & mask; ; i = (i + 1) & mask {
		switch h.slots[i] {
		case v:
			if set && h.withVals {
				h.vals[i] = val
			}
			return false
		case 0:
			h.slots[i] = v
			if h.withVals {
				h.vals[i] = val
			}
			return true
		}
	}
}

func (h *hashSet) grow() {
	old, oldVals := h.slots, h.vals
	h.slots = make([]uint64, max(64, 2*len(old)))
	if h.withVals {
		h.vals = make([]int64, len(h.slots))
	}
	for i, v := range old {
		if v != 0 {
			var val int64
			if h.withVals {
				val = oldVals[i]
			}
			h.insert(v, val, true)
		}
	}
}

// mix spreads the bits of a hash that may not be uniform in its low bits
// (a key's leading bytes are, but be safe for any caller).
func mix(v uint64) uint64 {
	v ^= v >> 33
	v *= 0xff51afd7ed558ccd
	v ^= v >> 33
	return v
}

// hashSeed is fixed for the process: the hashes never leave it.
var hashSeed = maphash.MakeSeed()

func strHash(s string) uint64 { return maphash.String(hashSeed, s) }

// keyHash hashes a request key: a hex digest's first 16 digits are already
// a uniform hash; anything else goes through maphash.
func keyHash(key string) uint64 {
	if len(key) < 16 {
		return strHash(key)
	}
	var v uint64
	for i := range 16 {
		c := key[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			return strHash(key)
		}
		v = v<<4 | uint64(c)
	}
	return v
}

// resultFilter holds, per (step, fingerprint), the hashes of the items
// that have a result: those in the file, read by one scan at the first
// Lookup for the pair, and those committed by this process, added before
// the write is queued (so a Lookup racing with a Commit queries).
type resultFilter struct {
	mu    sync.Mutex
	pairs map[[2]string]*itemSet
}

type itemSet struct {
	mu     sync.Mutex // held while loading, and for every access
	loaded bool       // the file's rows have been read in
	set    hashSet
}

func (f *resultFilter) pair(step, fingerprint string) *itemSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pairs == nil {
		f.pairs = map[[2]string]*itemSet{}
	}
	k := [2]string{step, fingerprint}
	p := f.pairs[k]
	if p == nil {
		p = &itemSet{}
		f.pairs[k] = p
	}
	return p
}

// committing records that item is about to be committed, and reports
// whether it is new: the pair's rows are known and item was not among
// them. (A Commit of the same item racing with this one may still get in
// first; the writer falls back to the upsert then.)
func (f *resultFilter) committing(step, item, fingerprint string) (isNew bool) {
	p := f.pair(step, fingerprint)
	h := strHash(item)
	p.mu.Lock()
	isNew = p.loaded && !p.set.has(h)
	p.set.add(h)
	p.mu.Unlock()
	return isNew
}

// mayHave reports whether item may have a result at (step, fingerprint),
// reading the pair's rows with load the first time.
func (f *resultFilter) mayHave(step, item, fingerprint string, load func(add func(item string)) error) (bool, error) {
	p := f.pair(step, fingerprint)
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.loaded {
		// Under p.mu: a Commit for the pair waits, but it adds its item
		// before queueing the write, so the scan misses nothing either way.
		if err := load(func(item string) { p.set.add(strHash(item)) }); err != nil {
			return true, err
		}
		p.loaded = true
	}
	return p.set.has(strHash(item)), nil
}

// reset forgets everything: the next Lookup of each pair reads the file.
func (f *resultFilter) reset() {
	f.mu.Lock()
	f.pairs = nil
	f.mu.Unlock()
}

// keyFilter holds the hashes of the response cache's keys: those in the
// file, read at the first CachedResponse or PutResponse, and those put
// since. For an entry this process wrote into the attempts journal it
// also holds the attempt's id, which cache_keys gets only at Close
// (schema v9); 0 when unknown.
type keyFilter struct {
	mu     sync.Mutex
	loaded bool
	set    hashSet // withVals: the attempt id
}

// add records key and reports whether it may have been there before.
func (f *keyFilter) add(key string, load func(add func(key string)) error) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.load(load); err != nil {
		return true, err
	}
	h := keyHash(key)
	may := f.set.has(h)
	f.set.add(h)
	return may, nil
}

func (f *keyFilter) load(load func(add func(key string)) error) error {
	if f.loaded {
		return nil
	}
	f.set.withVals = true
	if err := load(func(k string) { f.set.add(keyHash(k)) }); err != nil {
		return err
	}
	f.loaded = true
	return nil
}

// mayHave reports whether key may have an entry and, when this process
// wrote it into the journal, the attempt that holds it (else 0).
func (f *keyFilter) mayHave(key string, load func(add func(key string)) error) (bool, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.load(load); err != nil {
		return true, 0, err
	}
	id, ok := f.set.get(keyHash(key))
	return ok, id, nil
}

// attempt returns the id of the attempt this process wrote key's entry
// in, 0 if none (or if the key hashes like another one).
func (f *keyFilter) attempt(key string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, _ := f.set.get(keyHash(key))
	return id
}

// setAttempt records that attempt id holds key's entry; 0 says none does
// (the newest reply went to the responses table).
func (f *keyFilter) setAttempt(key string, id int64) {
	f.mu.Lock()
	f.set.put(keyHash(key), id, true)
	f.mu.Unlock()
}

// loadItems adds the item of every result of step under fingerprint.
func (s *Store) loadItems(ctx context.Context, step, fingerprint string) func(add func(string)) error {
	return func(add func(string)) error {
		return s.query(ctx, `SELECT item FROM results WHERE step = ? AND fp = `+fpOf,
			[]any{step, keyArg(fingerprint)}, func(rows *sql.Rows) error {
				var item string
				if err := rows.Scan(&item); err != nil {
					return err
				}
				add(item)
				return nil
			})
	}
}

// loadKeys adds every key of the response cache: cache_keys (Open has
// indexed every entry of earlier runs) and the responses table.
func (s *Store) loadKeys(ctx context.Context) func(add func(string)) error {
	return func(add func(string)) error {
		each := func(rows *sql.Rows) error {
			var key string
			if err := rows.Scan(scanKey(&key)); err != nil {
				return err
			}
			add(key)
			return nil
		}
		if err := s.query(ctx, `SELECT key FROM cache_keys`, nil, each); err != nil {
			return err
		}
		return s.query(ctx, `SELECT key FROM responses`, nil, each)
	}
}
