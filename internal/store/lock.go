package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockFile is the name of the lock file LockDir keeps in a folder.
const LockFile = "emer.lock"

// Lock is an exclusive lock on a folder, taken by LockDir. The system
// releases it when the process ends, however it ends (SIGKILL included).
type Lock struct {
	f *os.File
}

// LockedError reports a folder locked by another process.
type LockedError struct {
	Dir string
	PID int // the holder's process id as it recorded it; 0 when unknown
}

func (e *LockedError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("%s is locked by another process", e.Dir)
	}
	return fmt.Sprintf("%s is locked by another process (pid %d)", e.Dir, e.PID)
}

// LockDir takes an exclusive lock on the folder dir, through dir/emer.lock,
// without waiting: when another process (or another Lock of this one)
// holds it, the error is a *LockedError. The lock file keeps the process
// id of the holder; it is left in place when the lock is released.
func LockDir(dir string) (*Lock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("%s cannot be written: %w", dir, pathCause(err))
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if held {
		f.Close()
		return nil, &LockedError{Dir: dir, PID: readPID(path)}
	}
	// The holder's pid, for the message of whoever finds the folder locked.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Close releases the lock.
func (l *Lock) Close() error { return l.f.Close() }

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// pathCause returns the cause of a *fs.PathError, without the path that
// the caller names in its own words.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
