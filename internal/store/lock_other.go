//go:build !unix

package store

import "os"

// tryLock does not lock on this system: a folder can be used by two
// processes at once, as SQLite itself allows.
func tryLock(*os.File) (held bool, err error) { return false, nil }

// CheckWritable checks nothing on this system; SQLite reports a database
// it cannot write when it is opened.
func CheckWritable(string) error { return nil }
