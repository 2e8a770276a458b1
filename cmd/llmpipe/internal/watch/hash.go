package watch

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// contentHash identifies what path holds now: the file's bytes, or for a
// glob the names and bytes of every match. A missing or unreadable file
// hashes to "", so deleting a file and restoring it unchanged is no change.
func contentHash(path string) string {
	if !isGlob(path) {
		b, err := os.ReadFile(path)
		if err != nil {
			return ""
		}
		return hashBytes(b)
	}
	names, _ := filepath.Glob(path) // the only error is a bad pattern: then nothing matches
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			continue // a directory, or gone since Glob
		}
		sum := sha256.Sum256(b)
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func isGlob(path string) bool { return strings.ContainsAny(path, `*?[`) }

// watchDir is the directory whose events cover path: its parent, or for a
// glob the deepest directory before the first pattern element (events in
// subdirectories of it are not seen; patterns rarely span directories).
func watchDir(path string) string {
	if !isGlob(path) {
		return filepath.Dir(path)
	}
	dir := filepath.Dir(path)
	for isGlob(dir) {
		dir = filepath.Dir(dir)
	}
	return dir
}
