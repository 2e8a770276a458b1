package store

import (
	"database/sql"
	"encoding/json"
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
