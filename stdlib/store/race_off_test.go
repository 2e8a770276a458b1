//go:build !race

package store

const raceScale = 1
