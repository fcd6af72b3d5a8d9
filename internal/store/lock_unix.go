//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// tryLock takes an exclusive flock on f without waiting; held reports that
// another open file holds it.
func tryLock(f *os.File) (held bool, err error) {
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}

// CheckWritable returns an error naming the folder or file when the
// database at path could not be written: its folder must take new files
// (the database, or SQLite's -wal and -shm files beside it), and the
// database and its -wal and -shm files, where they exist, must be
// writable. It opens no file: closing a descriptor of a database would
// drop the locks SQLite holds on it in this process.
func CheckWritable(path string) error {
	dir := filepath.Dir(path)
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("%s does not exist", dir)
		}
		return fmt.Errorf("%s cannot be written: %w", dir, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		err := unix.Access(p, unix.W_OK)
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("%s cannot be written: %w", p, err)
		}
	}
	return nil
}
