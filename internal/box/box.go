// Package box turns strings into interface values without an allocation
// for each.
//
// Storing a string in an any (a map[string]any's value, an expression's
// result) copies its header to a new 16-byte object: the interface's data
// word points at it. On the per-item path that is one allocation per
// string field of every item. A Strings instead copies headers into a
// slab of many and makes each interface point at its own slot: one
// allocation per slab.
//
// This is what the compiler's own conversion builds, with the header in a
// bigger object: the interface holds the string type and a pointer to a
// string header that nothing writes again. A slot is written once, before
// its interface exists, and slabs are never grown in place (a full slab is
// left to the values pointing into it, and a new one started), so the
// value an interface holds never changes. The garbage collector keeps a
// slab alive while any interface points into it.
package box

import "unsafe"

// slabLen is how many strings one slab holds (2 KB of headers).
const slabLen = 128

// Strings boxes strings. The zero value is ready to use. It is not safe
// for concurrent use: each goroutine that boxes keeps its own.
type Strings struct {
	slab []string
}

// eface is the layout of an empty interface value.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// String returns s as an any holding a string, equal to any(s).
func (b *Strings) String(s string) any {
	if s == "" {
		return "" // boxing the empty string does not allocate
	}
	if len(b.slab) == cap(b.slab) {
		b.slab = make([]string, 0, slabLen)
	}
	b.slab = append(b.slab, s)
	v := any("") // the string type word; its data word is replaced
	(*eface)(unsafe.Pointer(&v)).data = unsafe.Pointer(&b.slab[len(b.slab)-1])
	return v
}
