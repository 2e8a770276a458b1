//go:build !unix

package store

// fileLock is a no-op where flock is unavailable: two runs on one store are
// then only kept apart by SQLite's own locking.
type fileLock struct{}

func lockFile(_, _ string) (*fileLock, error) { return &fileLock{}, nil }

func (*fileLock) release() error { return nil }
