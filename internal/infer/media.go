package infer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MediaExtensions are the extensions FindMedia tries, video first, then
// audio alone.
var MediaExtensions = []string{
	".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".flv", ".mpg", ".mpeg", ".ts", ".wmv",
	".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus",
}

// ErrNoMedia is returned by FindMedia when no file of that name exists.
var ErrNoMedia = errors.New("no media file")

// FindMedia returns the file in dir for the clip called name: name itself
// when it has an extension and exists, else name with the first of
// MediaExtensions (either case) that exists. Names may not leave dir.
func FindMedia(dir, name string) (string, error) {
	if name == "" || !filepath.IsLocal(name) {
		return "", fmt.Errorf("clip name %q is not a file name inside %s", name, dir)
	}
	try := func(p string) bool {
		st, err := os.Stat(p)
		return err == nil && st.Mode().IsRegular()
	}
	base := filepath.Join(dir, name)
	if filepath.Ext(name) != "" && try(base) {
		return base, nil
	}
	for _, ext := range MediaExtensions {
		for _, e := range []string{ext, strings.ToUpper(ext)} {
			if p := base + e; try(p) {
				return p, nil
			}
		}
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("media folder %s: %w", dir, err)
	}
	return "", fmt.Errorf("%w for %q in %s (tried %s)", ErrNoMedia, name, dir, strings.Join(MediaExtensions, " "))
}
