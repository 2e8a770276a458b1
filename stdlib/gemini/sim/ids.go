package sim

import "sync/atomic"

// idSource names batches and files. Names are unique within a server and,
// because the start time is part of the hash, across simulator processes
// too: a client that kept a job name from an earlier simulator must get
// 404 for it, not some other job.
type idSource struct {
	h hasher
	n *atomic.Uint64
}

func newIDSource(seed int64, startNanos int64) idSource {
	return idSource{h: newHasher(seed).u64(uint64(startNanos)).str("ids"), n: new(atomic.Uint64)}
}

// next returns 12 characters from [a-z0-9].
func (s idSource) next() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	x := s.h.u64(s.n.Add(1)).sum()
	var b [12]byte
	for i := range b {
		b[i] = alphabet[x%uint64(len(alphabet))]
		x /= uint64(len(alphabet)) // 36^12 < 2^64: every character uses fresh bits
	}
	return string(b[:])
}
