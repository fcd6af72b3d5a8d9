// Package prompt holds a package's prompt templates: text/template files
// embedded from a folder, one template per file, named by the file name
// without ".tmpl", executed strictly (a missing key is an error).
package prompt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"text/template"
)

// Set is a folder's templates. It is read-only once made and safe for
// concurrent use.
type Set struct {
	fsys fs.FS
	dir  string
	t    map[string]*template.Template
}

// MustLoad parses every dir/*.tmpl of fsys with funcs (nil for none). It
// panics on a template that does not parse: the templates are embedded in
// the program, and their tests catch a broken one.
func MustLoad(fsys fs.FS, dir string, funcs template.FuncMap) *Set {
	s := &Set{fsys: fsys, dir: dir, t: map[string]*template.Template{}}
	names, err := fs.Glob(fsys, path.Join(dir, "*.tmpl"))
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			panic(err)
		}
		name := strings.TrimSuffix(path.Base(n), ".tmpl")
		s.t[name] = template.Must(template.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(b)))
	}
	return s
}

// Render fills the named template with data.
func (s *Set) Render(name string, data any) (string, error) {
	t, ok := s.t[name]
	if !ok {
		return "", fmt.Errorf("no prompt %q", name)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// Names returns the names of the templates, sorted.
func (s *Set) Names() []string {
	out := make([]string, 0, len(s.t))
	for n := range s.t {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Source returns the text of the named template's file.
func (s *Set) Source(name string) ([]byte, error) {
	return fs.ReadFile(s.fsys, path.Join(s.dir, name+".tmpl"))
}

// SHA256 returns the hex SHA-256 of every template's name and source, in
// name order: what tells one version of the set from another.
func (s *Set) SHA256() string {
	h := sha256.New()
	for _, n := range s.Names() {
		b, err := s.Source(n)
		if err != nil {
			panic("prompt: " + err.Error()) // the set was loaded from these files
		}
		fmt.Fprintf(h, "%s\x00%d\x00%s", n, len(b), b)
	}
	return hex.EncodeToString(h.Sum(nil))
}
