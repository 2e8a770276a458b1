package store

import (
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Times are stored as unix nanoseconds, NULL for the zero time (whose
// UnixNano is out of range).
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// runRef stores run id 0 ("no run") as NULL so the foreign key accepts it.
func runRef(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// jsonText stores empty JSON as NULL.
func jsonText(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	return string(raw)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// keyArg is how a hash (fingerprint, input, request key) is stored: its
// bytes when it is lower-case hex of even length, as the runtime's hashes
// are, half the size of the text; anything else as text. SQLite never
// finds a blob equal to a text, so the two forms cannot be confused, and
// hexKey turns either back into the string it was.
func keyArg(s string) any {
	if !isLowerHex(s) {
		return s
	}
	b := make([]byte, len(s)/2)
	hex.Decode(b, []byte(s))
	return b
}

func isLowerHex(s string) bool {
	if s == "" || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// cacheKeyArg is cache_keys.key of a request key: the first 8 bytes of
// keyArg's bytes, or the whole text (schema v9, cacheKeyExpr).
func cacheKeyArg(key string) any {
	if isLowerHex(key) {
		key = key[:min(len(key), 16)] // still even-length lower-case hex
	}
	return keyArg(key)
}

// hexKey scans a column written with keyArg back into its string.
type hexKey string

func (k *hexKey) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*k = ""
	case string:
		*k = hexKey(v)
	case []byte:
		*k = hexKey(hex.EncodeToString(v))
	default:
		return fmt.Errorf("a hash stored as %T", v)
	}
	return nil
}

// scanKey is a scan destination that writes into a string.
func scanKey(dst *string) sql.Scanner { return (*hexKey)(dst) }
