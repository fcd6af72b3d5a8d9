package models

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"emer/internal/config"
)

// Package is the npm package, pinned to one version, that the files come from.
const Package = "@vladmandic/face-api@1.7.15"

// EnvDir is the environment variable that overrides the model directory.
const EnvDir = config.EnvModels

// File is one pinned model file.
type File struct {
	Name   string // base name, as in the package's model/ folder
	Size   int64
	SHA256 string // hex
}

// The files of Package that emer uses.
const (
	TinyFaceDetectorManifest = "tiny_face_detector_model-weights_manifest.json"
	TinyFaceDetectorWeights  = "tiny_face_detector_model.bin"
	FaceExpressionManifest   = "face_expression_model-weights_manifest.json"
	FaceExpressionWeights    = "face_expression_model.bin"
	FaceLandmarkManifest     = "face_landmark_68_model-weights_manifest.json"
	FaceLandmarkWeights      = "face_landmark_68_model.bin"
	FaceLandmarkTinyManifest = "face_landmark_68_tiny_model-weights_manifest.json"
	FaceLandmarkTinyWeights  = "face_landmark_68_tiny_model.bin"
	SSDMobilenetManifest     = "ssd_mobilenetv1_model-weights_manifest.json"
	SSDMobilenetWeights      = "ssd_mobilenetv1_model.bin"
)

// Files lists every model file with its pinned size and digest.
var Files = []File{
	{TinyFaceDetectorManifest, 3219, "5d1af4849ac48d5b985f4a9b16010c512353ddd6fcc63d50fd0bc9e9e64296e5"},
	{TinyFaceDetectorWeights, 193321, "b7503ce7df31039b1c43316a9b865cab6a70dd748cc602d3fa28b551503c3871"},
	{FaceExpressionManifest, 6980, "5b349c17c7836da506e03422cd6461c74085d8bb2713ad4114647dc5d28174c8"},
	{FaceExpressionWeights, 329468, "9a9840f2cf1f4c7eab95f197512569345c00d2426754d4608b92af30e0300f3d"},
	{FaceLandmarkManifest, 8485, "ca4886639f86e99b39fed0c155f81b63317225773bd9616716e887b0153389c9"},
	{FaceLandmarkWeights, 356840, "4611ef65c87d836d03d684b30eec4d195d8b219fa1dd58fc58945831c6b9299b"},
	{FaceLandmarkTinyManifest, 4806, "9a1a5dd19fd814fd5095c3cb58f8e0d3193b8c5b9a6715b30a69d559aea31ad4"},
	{FaceLandmarkTinyWeights, 77224, "b98e9f2f7da76f8a6dda9741a36ed485b224b889d552de2b2c1bb16217f67bfc"},
	{SSDMobilenetManifest, 28233, "888f744dffbc84f5f060d1f8427d9742341943a2dfaaf9205d10029b7e7a2955"},
	{SSDMobilenetWeights, 5616957, "2835640602d53718aa6ae9a42896327eaa21beefed056c218d32ca7d79e1e2f8"},
}

// packageDir is the folder inside the package tarball that holds the files.
const packageDir = "package/model/"

// ErrNotInstalled reports a model file that is missing.
var ErrNotInstalled = errors.New("model files are not installed: run `emer models install`")

// ErrCorrupt reports a model file that is there but is not the pinned
// file: its size or SHA-256 differs (a damaged copy, a disk error, an
// edit). `emer models install` replaces it.
var ErrCorrupt = errors.New("model file is corrupt")

// Dir returns the model directory: $EMER_MODELS when set, otherwise
// emer/models under the user's cache directory ($XDG_CACHE_HOME or
// ~/.cache on Linux).
func Dir() (string, error) { return config.ModelsDir() }

// lookup returns the pinned File called name.
func lookup(name string) (File, bool) {
	for _, f := range Files {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}

// Status is the state of one model file in a directory.
type Status struct {
	File
	Path     string
	Present  bool
	Verified bool // present with the pinned size and SHA-256
	// Mismatch says how a present file differs from its pin: its size or
	// its SHA-256; "" when it verifies or is absent.
	Mismatch string
	// Err says why the file is not verified, wrapping ErrNotInstalled when
	// it is missing and ErrCorrupt when it differs; nil when it verifies.
	Err error
}

// Check reports the state of every file of Files in dir.
func Check(dir string) []Status {
	out := make([]Status, 0, len(Files))
	for _, f := range Files {
		st := Status{File: f, Path: filepath.Join(dir, f.Name)}
		data, err := os.ReadFile(st.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			st.Err = fmt.Errorf("%s is missing: %w", st.Path, ErrNotInstalled)
		case err != nil:
			st.Err = err
		default:
			st.Present = true
			st.Mismatch = mismatch(f, data)
			st.Err = verify(f, st.Path, data)
			st.Verified = st.Err == nil
		}
		out = append(out, st)
	}
	return out
}

// mismatch says how data differs from the pinned file f, or returns ""
// when it is f.
func mismatch(f File, data []byte) string {
	if int64(len(data)) != f.Size {
		return fmt.Sprintf("size %d bytes, want %d", len(data), f.Size)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
		return fmt.Sprintf("SHA-256 mismatch: %s, want %s", got, f.SHA256)
	}
	return ""
}

// verify checks the contents data of the model file f read from path; an
// error wraps ErrCorrupt, names the file and says how to repair it.
func verify(f File, path string, data []byte) error {
	if m := mismatch(f, data); m != "" {
		return fmt.Errorf("%s: %w (%s): run `emer models install` to repair it", path, ErrCorrupt, m)
	}
	return nil
}

// ReadFile returns the verified contents of the model file name from dir.
// A missing file gives an error wrapping ErrNotInstalled, an altered one an
// error wrapping ErrCorrupt.
func ReadFile(dir, name string) ([]byte, error) {
	f, ok := lookup(name)
	if !ok {
		return nil, fmt.Errorf("models: %q is not a known model file", name)
	}
	p := filepath.Join(dir, name)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is missing: %w", p, ErrNotInstalled)
	}
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	if err := verify(f, p, data); err != nil {
		return nil, err
	}
	return data, nil
}

// Packer fetches the package tarball (.tgz) into dir and returns its path.
type Packer func(ctx context.Context, dir string) (string, error)

// NPMPack is the Packer that runs `npm pack Package` in dir.
func NPMPack(ctx context.Context, dir string) (string, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", errors.New("npm not found on PATH: install it with `apt-get install npm` (Debian) or run `make setup`")
	}
	cmd := exec.CommandContext(ctx, npm, "pack", "--silent", Package)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("npm pack %s: %v: %s", Package, err, strings.TrimSpace(stderr.String()))
	}
	name := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(name, '\n'); i >= 0 {
		name = name[i+1:]
	}
	if name == "" || strings.ContainsRune(name, '/') {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.tgz"))
		if len(matches) != 1 {
			return "", fmt.Errorf("npm pack %s: no tarball found", Package)
		}
		return matches[0], nil
	}
	return filepath.Join(dir, name), nil
}

// Install makes sure every file of Files is in dir and verifies. Files
// that already verify are left alone; when any is missing or altered, the
// package is fetched once with pack into a temporary directory, the files
// are extracted, verified, and written atomically. It returns the names of
// the files it wrote (none when everything was in place).
func Install(ctx context.Context, dir string, pack Packer) ([]string, error) {
	var need []File
	for _, st := range Check(dir) {
		if !st.Verified {
			need = append(need, st.File)
		}
	}
	if len(need) == 0 {
		return nil, nil
	}
	tmp, err := os.MkdirTemp("", "emer-models-")
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	defer os.RemoveAll(tmp)
	tgz, err := pack(ctx, tmp)
	if err != nil {
		return nil, fmt.Errorf("models: fetching %s: %w", Package, err)
	}
	contents, err := extract(tgz, need)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", Package, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	var wrote []string
	for _, f := range need {
		data := contents[f.Name]
		if m := mismatch(f, data); m != "" {
			return wrote, fmt.Errorf("models: %s from %s does not match its pin: %s", f.Name, Package, m)
		}
		if err := writeAtomic(filepath.Join(dir, f.Name), data); err != nil {
			return wrote, fmt.Errorf("models: %w", err)
		}
		wrote = append(wrote, f.Name)
	}
	return wrote, nil
}

// extract reads the wanted files from the package/model/ folder of a
// gzipped tarball.
func extract(tgz string, want []File) (map[string][]byte, error) {
	fh, err := os.Open(tgz)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	gz, err := gzip.NewReader(fh)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Base(tgz), err)
	}
	wanted := map[string]File{}
	for _, f := range want {
		wanted[packageDir+f.Name] = f
	}
	out := map[string][]byte{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", filepath.Base(tgz), err)
		}
		f, ok := wanted[path.Clean(h.Name)]
		if !ok || h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, f.Size+1))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", h.Name, err)
		}
		out[f.Name] = data
	}
	for _, f := range want {
		if _, ok := out[f.Name]; !ok {
			return nil, fmt.Errorf("the package has no %s%s", packageDir, f.Name)
		}
	}
	return out, nil
}

func writeAtomic(p string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), p)
}
