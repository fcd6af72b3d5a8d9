package infer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"emer/internal/batch"
)

// Item is a clip of a dataset run as it is queued for workers: everything
// a worker needs to explain it besides its own servers and the media
// file, which it reads at Path. Workers of a run therefore need the
// submitter's media at the same paths (a shared filesystem).
type Item struct {
	Name string `json:"name"`
	// Path is the media file, an absolute path; Size and ModTime are its
	// size and modification time (UTC) when the clip was queued.
	Path     string   `json:"path"`
	Size     int64    `json:"size"`
	ModTime  string   `json:"mod_time"`
	Subtitle string   `json:"subtitle"`
	Settings Settings `json:"settings"`
}

// Clip returns the clip the item explains.
func (it Item) Clip() Clip { return Clip{Name: it.Name, Path: it.Path, Subtitle: it.Subtitle} }

func (it Item) stamp() mediaStamp { return mediaStamp{size: it.Size, modTime: it.ModTime} }

// mediaStamp is what a clip's input digest reads of its media file.
type mediaStamp struct {
	size    int64
	modTime string
}

// modTimeLayout writes a media file's modification time in the digest.
const modTimeLayout = "2006-01-02T15:04:05.000000000"

func statMedia(path string) (mediaStamp, error) {
	st, err := os.Stat(path)
	if err != nil {
		return mediaStamp{}, err
	}
	return mediaStamp{size: st.Size(), modTime: st.ModTime().UTC().Format(modTimeLayout)}, nil
}

// inputDigest is the digest of what explaining a clip reads: the
// settings, the media file's identity (path, size, modification time)
// and the subtitle.
func inputDigest(settings, path string, m mediaStamp, subtitle string) string {
	h := sha256.New()
	for _, s := range []string{settings, path, fmt.Sprint(m.size), m.modTime, subtitle} {
		fmt.Fprintf(h, "%d\x00%s\x00", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// queueKey is the settings part of a queued clip's input digest: the
// settings alone, as a worker reads them from the item. Fields added to
// Settings later must be omitempty, so that items queued by earlier emers
// keep their digest.
func queueKey(s Settings) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

// NewItem returns the queued item of clip c under settings s: its payload
// and its input digest, read from the media file as it is now.
func NewItem(c Clip, s Settings) (batch.Item, error) {
	it, input, err := newItem(c, s)
	if err != nil {
		return batch.Item{}, err
	}
	b, err := json.Marshal(it)
	if err != nil {
		return batch.Item{}, err
	}
	return batch.Item{Key: c.Name, Input: input, Payload: b}, nil
}

func newItem(c Clip, s Settings) (Item, string, error) {
	if !filepath.IsAbs(c.Path) {
		return Item{}, "", fmt.Errorf("clip %s: media path %s is not absolute", c.Name, c.Path)
	}
	m, err := statMedia(c.Path)
	if err != nil {
		return Item{}, "", err
	}
	key, err := queueKey(s)
	if err != nil {
		return Item{}, "", err
	}
	it := Item{Name: c.Name, Path: c.Path, Size: m.size, ModTime: m.modTime, Subtitle: c.Subtitle, Settings: s}
	return it, inputDigest(key, c.Path, m, c.Subtitle), nil
}

// DecodeItem reads a queued clip and checks it against its key and input
// digest. A payload with fields this emer does not know is an error
// wrapping ErrOtherVersion; every other error is the item's own.
func DecodeItem(bi batch.Item) (Item, error) {
	var it Item
	dec := json.NewDecoder(bytes.NewReader(bi.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&it); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			return it, fmt.Errorf("infer item %.60q: %w (%v): run the submitter's emer version", bi.Key, ErrOtherVersion, err)
		}
		return it, fmt.Errorf("infer item %.60q: %w", bi.Key, err)
	}
	if it.Name != bi.Key {
		return it, fmt.Errorf("infer item %.60q: its payload is of clip %.60q", bi.Key, it.Name)
	}
	if !filepath.IsAbs(it.Path) {
		return it, fmt.Errorf("infer item %.60q: media path %q is not absolute", bi.Key, it.Path)
	}
	if err := it.Settings.Validate(); err != nil {
		return it, fmt.Errorf("infer item %.60q: settings: %w", bi.Key, err)
	}
	key, err := queueKey(it.Settings)
	if err != nil {
		return it, fmt.Errorf("infer item %.60q: %w", bi.Key, err)
	}
	if inputDigest(key, it.Path, it.stamp(), it.Subtitle) != bi.Input {
		return it, fmt.Errorf("infer item %.60q: its payload is not that of its input digest", bi.Key)
	}
	return it, nil
}

// Errors of CheckMedia. ErrMediaNotHere: the folder of an item's media
// is not on this machine, which then serves no clip of the run.
// ErrMediaChanged: the folder is here but the file is missing or not the
// one the item was queued with (deleted or rewritten since), which is the
// clip's own trouble.
var (
	ErrMediaNotHere = errors.New("media not here")
	ErrMediaChanged = errors.New("media changed")
)

// CheckMedia reports whether the media file at it.Path is the one the
// item was queued with: same size and modification time, so that the
// clip's input digest computed here is the submitter's.
func (it Item) CheckMedia() error {
	const need = "workers of an infer run need the submitter's media at the same path (a shared filesystem)"
	dir := filepath.Dir(it.Path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if err == nil {
			err = errors.New("not a folder")
		}
		return fmt.Errorf("%w: clip %s: its folder %s is not on this machine (%v): %s", ErrMediaNotHere, it.Name, dir, err, need)
	}
	m, err := statMedia(it.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: clip %s: %s is missing on this machine (gone since the run queued it?): %s", ErrMediaChanged, it.Name, it.Path, need)
	case err != nil:
		return fmt.Errorf("%w: clip %s: %v: %s", ErrMediaChanged, it.Name, err, need)
	case m != it.stamp():
		return fmt.Errorf("%w: clip %s: %s is %d bytes modified %s UTC on this machine, the run queued it as %d bytes modified %s: %s",
			ErrMediaChanged, it.Name, it.Path, m.size, m.modTime, it.Size, it.ModTime, need)
	}
	return nil
}
