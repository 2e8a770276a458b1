package sim

import (
	"math"
	"math/bits"
)

// Every random choice is derived by hashing what identifies the request, so
// that results do not depend on arrival order or on goroutine scheduling.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// hasher is FNV-1a over bytes, finished with a splitmix64 mix; strings are
// separated by a 0xff byte so ("ab","c") and ("a","bc") differ.
type hasher uint64

func newHasher(seed int64) hasher { return hasher(fnvOffset).u64(uint64(seed)) }

func (h hasher) str(s string) hasher {
	x := uint64(h)
	for i := 0; i < len(s); i++ {
		x ^= uint64(s[i])
		x *= fnvPrime
	}
	x ^= 0xff
	x *= fnvPrime
	return hasher(x)
}

func (h hasher) bytes(b []byte) hasher {
	x := uint64(h)
	for _, c := range b {
		x ^= uint64(c)
		x *= fnvPrime
	}
	x ^= 0xff
	x *= fnvPrime
	return hasher(x)
}

func (h hasher) u64(v uint64) hasher {
	x := uint64(h)
	for i := 0; i < 8; i++ {
		x ^= v & 0xff
		x *= fnvPrime
		v >>= 8
	}
	return hasher(x)
}

func (h hasher) sum() uint64 { return mix64(uint64(h)) }

// rng returns a stream seeded by the hash.
func (h hasher) rng() *stream { return &stream{s: h.sum()} }

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// stream is splitmix64: tiny, fast and good enough for test data.
type stream struct{ s uint64 }

func (r *stream) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// float returns a uniform value in [0, 1).
func (r *stream) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// intn returns a uniform value in [0, n); n must be > 0.
func (r *stream) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// between returns a uniform int in [lo, hi].
func (r *stream) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.intn(hi-lo+1)
}

// norm returns a standard normal deviate (Box-Muller).
func (r *stream) norm() float64 {
	u := 1 - r.float() // (0, 1]: log stays finite
	v := r.float()
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*v)
}
