//go:build unix

package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// fileLock is an exclusive flock on "<db>.lock". The lock dies with the
// process, so a killed run never leaves a stale lock behind; the file itself
// is left in place because unlinking a flocked file lets a second process
// lock a fresh inode under the same name.
type fileLock struct{ f *os.File }

// lockFile locks abs+".lock"; shown is the path errors name.
func lockFile(abs, shown string) (*fileLock, error) {
	name := abs + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Path: shown, PID: readPID(f)}
		}
		return nil, fmt.Errorf("locking %s: %w", name, err)
	}
	// The pid is only for the message a second run prints; losing it is harmless.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &fileLock{f: f}, nil
}

func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, err := strconv.Atoi(string(bytes.TrimSpace(buf[:n])))
	if err != nil {
		return 0
	}
	return pid
}

func (l *fileLock) release() error {
	// Closing the descriptor drops the flock.
	return l.f.Close()
}
