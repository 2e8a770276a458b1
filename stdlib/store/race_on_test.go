//go:build race

package store

// raceScale shrinks the load tests under -race, where SQLite (compiled Go)
// runs ten times slower; the interleavings they check are the same.
const raceScale = 4
