// Package itemkey turns an item id into a key that is safe to send where
// only a short run of printable ASCII may go: the x-llmpipe-item HTTP
// header and Batch Mode request keys. The provider encodes, the simulator
// decodes; both must use this pair so that they agree.
//
// An id made only of printable ASCII other than '%' and no longer than
// MaxLen is its own key, so the usual ids ("row-7", "a1") read the same on
// the wire. Other ids are percent-encoded byte by byte (RFC 3986 style,
// upper-case hex), so control characters, spaces (which HTTP trims at the
// ends of a header value) and non-ASCII survive. An id whose encoding would
// be longer than MaxLen is sent as HashPrefix followed by the hex SHA-256
// of the id: it cannot be decoded back, but it is the same key every time,
// so a receiver that needs to match it compares with Encode(id) (or with
// Decode(Encode(id))).
package itemkey

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// MaxLen is the longest key Encode returns, in bytes. Real HTTP front ends
// limit header sizes to some kilobytes; 512 leaves room for the rest.
const MaxLen = 512

// HashPrefix starts the key of an id too long to send whole. No percent
// encoding starts this way ('s' is not a hex digit), so it cannot be
// mistaken for an encoded id.
const HashPrefix = "%sha256:"

const hexDigits = "0123456789ABCDEF"

// safe reports whether b goes into a key as it is.
func safe(b byte) bool { return b > ' ' && b < 0x7f && b != '%' }

// Encode returns the key for id: id itself when it is short printable
// ASCII without '%', its percent encoding otherwise, or a hash when the
// encoding would exceed MaxLen. It is a pure function, safe for
// concurrent use, and does not allocate for ids that are their own key.
func Encode(id string) string {
	n := 0 // length of the encoding
	for i := 0; i < len(id); i++ {
		if safe(id[i]) {
			n++
		} else {
			n += 3
		}
	}
	switch {
	case n == len(id) && n <= MaxLen:
		return id
	case n > MaxLen:
		sum := sha256.Sum256([]byte(id))
		return HashPrefix + hex.EncodeToString(sum[:])
	}
	var b strings.Builder
	b.Grow(n)
	for i := 0; i < len(id); i++ {
		c := id[i]
		if safe(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// Decode returns the id whose key is key. A hashed key (HashPrefix…)
// decodes to itself, since the id cannot be recovered from it. A '%' not
// followed by two hex digits is an error: key was not made by Encode.
func Decode(key string) (string, error) {
	if strings.HasPrefix(key, HashPrefix) || strings.IndexByte(key, '%') < 0 {
		return key, nil
	}
	var b strings.Builder
	b.Grow(len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(key) {
			return "", fmt.Errorf("item key %q: truncated escape at byte %d", key, i)
		}
		hi, ok1 := unhex(key[i+1])
		lo, ok2 := unhex(key[i+2])
		if !ok1 || !ok2 {
			return "", fmt.Errorf("item key %q: bad escape %q at byte %d", key, key[i:i+3], i)
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
