package quota

import (
	"sync"
	"time"
)

// pacific is where Gemini's daily quotas reset at midnight. Without the
// time zone database (no tzdata on the system and no time/tzdata import in
// the binary) it falls back to standard time, an hour off in summer.
var pacific = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("America/Los_Angeles"); err == nil {
		return loc
	}
	return time.FixedZone("PST", -8*3600)
})

// nextReset returns when the day containing t ends: the next multiple of
// dayLength since the epoch, or the next midnight Pacific time.
func nextReset(t time.Time, dayLength time.Duration) time.Time {
	if dayLength > 0 {
		return t.Truncate(dayLength).Add(dayLength)
	}
	loc := pacific()
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}
