package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// Binding ties the settings a command uses to its flags. Bind makes one;
// Resolve turns defaults, config file, environment and flags into the
// command's Config.
type Binding struct {
	fs         *pflag.FlagSet
	settings   []*Setting
	flags      map[string]*flagValue // by setting key
	configPath string                // --config
	required   map[string]bool
	shown      map[string]string // defaults as this command's help says them, by key
}

// Bind registers on fs the flags of the settings called keys, with their
// defaults, their help and the environment variables they override, and
// --config. A key that names no setting panics: it is a mistake in the
// program, not in its input.
func Bind(fs *pflag.FlagSet, keys ...string) *Binding {
	b := &Binding{fs: fs, settings: settingsOf(keys), flags: map[string]*flagValue{}, required: map[string]bool{}}
	for _, s := range b.settings {
		if s.Flag == "" {
			continue
		}
		v := &flagValue{s: s, text: s.Default}
		usage := s.Help
		if len(s.Env) > 0 {
			usage += " ($" + strings.Join(s.Env, ", $") + ")"
		}
		fs.Var(v, strings.TrimPrefix(s.Flag, "--"), usage)
		b.flags[s.Key] = v
	}
	fs.StringVar(&b.configPath, "config", "", "JSON config file of settings (default $"+ConfigEnv+")")
	return b
}

// Require makes Resolve fail when any of the settings called keys, all
// bound, is empty once resolved.
func (b *Binding) Require(keys ...string) *Binding {
	for _, k := range keys {
		if !b.bound(k) {
			panic(fmt.Sprintf("config: %q is required but not bound", k))
		}
		b.required[k] = true
	}
	return b
}

// ShowDefault makes Help say text for the default of the bound setting
// key, where the command's own default differs in words from the table's
// (the store of emer serve is --db FILE, not DIR/emer.db). It changes
// nothing else.
func (b *Binding) ShowDefault(key, text string) *Binding {
	if !b.bound(key) {
		panic(fmt.Sprintf("config: %q is shown but not bound", key))
	}
	if b.shown == nil {
		b.shown = map[string]string{}
	}
	b.shown[key] = text
	return b
}

func (b *Binding) bound(key string) bool {
	for _, s := range b.settings {
		if s.Key == key {
			return true
		}
	}
	return false
}

// Resolve returns the bound settings from, later winning: their defaults,
// the config file (--config, else $EMER_CONFIG), the environment read
// through getenv (ProcessEnv in a command) and the flags set on the
// command line. The config file may hold any setting, so that one file
// serves every command, but no unknown key; settings not bound keep their
// defaults. Base URLs come back normalised (llm.NormalizeBaseURL), an
// sqlite:PATH cache as PATH, an empty caption_model as the model and an
// empty models folder as the default one. Every problem found is
// reported, each with where the value came from.
func (b *Binding) Resolve(getenv func(string) (string, bool)) (Config, error) {
	path := b.configPath
	if path == "" {
		path, _ = getenv(ConfigEnv)
	}
	r := resolver{settings: b.settings, getenv: getenv, flag: func(s *Setting) (string, bool) {
		v, ok := b.flags[s.Key]
		if !ok {
			return "", false
		}
		f := b.fs.Lookup(strings.TrimPrefix(s.Flag, "--"))
		return v.text, f != nil && f.Changed
	}}
	c, from, err := r.resolve(path)
	if err != nil {
		return c, err
	}
	var errs []error
	for _, s := range b.settings {
		switch s.Key {
		case "caption_model":
			if c.CaptionModel == "" {
				c.CaptionModel = c.Model
			}
		case "models":
			if c.Models == "" {
				d, err := DefaultModelsDir()
				if err != nil {
					errs = append(errs, err)
				}
				c.Models = d
			}
		}
	}
	for _, s := range b.settings {
		if s.check != nil {
			if err := s.check(c); err != nil {
				errs = append(errs, prefix(from[s.Key], err))
			}
		}
		if b.required[s.Key] && s.get(c) == "" {
			errs = append(errs, prefix(from[s.Key], emptyError(s)))
		}
	}
	return c, errors.Join(errs...)
}

// Help returns the table of the bound settings for a command's --help.
func (b *Binding) Help() string {
	var sb strings.Builder
	sb.WriteString("Settings (later sources win: defaults, config file, environment, flags):\n")
	writeHelp(&sb, b.settings, b.required, b.shown)
	if b.bound("base_url") || b.bound("asr_url") {
		sb.WriteString("  Requests to model servers go through $HTTPS_PROXY or $HTTP_PROXY unless $NO_PROXY names the host.\n")
	}
	return sb.String()
}

// prefix puts where a value came from before an error about it.
func prefix(from string, err error) error {
	if from == "" {
		return err
	}
	return fmt.Errorf("%s: %w", from, err)
}

// flagValue is the pflag.Value of a setting's flag: it checks the text as
// it is given and keeps it for Resolve.
type flagValue struct {
	s    *Setting
	text string
}

func (v *flagValue) String() string { return v.text }

func (v *flagValue) Set(text string) error {
	c := Default()
	if err := v.s.set(&c, text); err != nil {
		return err
	}
	v.text = text
	return nil
}

func (v *flagValue) Type() string { return v.s.Type }

// resolver applies the sources of a set of settings in turn.
type resolver struct {
	settings []*Setting
	getenv   func(string) (string, bool)
	flag     func(s *Setting) (string, bool) // a flag's text and whether it was set; nil: no flags
}

// resolve returns the defaults overlaid with the config file at path (none
// when empty), the environment and the flags, and for each setting not at
// its default where its value came from.
func (r resolver) resolve(path string) (Config, map[string]string, error) {
	c := Default()
	from := map[string]string{}
	bound := map[string]bool{}
	for _, s := range r.settings {
		bound[s.Key] = true
	}
	var errs []error
	if path != "" {
		entries, err := readConfigFile(path)
		errs = append(errs, err)
		scratch := Default()
		for _, e := range entries {
			s, _ := lookup(e.key)
			dst := &scratch // a setting this command does not use is checked, not applied
			if bound[e.key] {
				dst = &c
			}
			text, err := fromJSON(s.kind, e.raw)
			if err == nil {
				err = s.set(dst, text)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", e.pos, e.key, err))
				continue
			}
			if bound[e.key] {
				from[e.key] = e.pos
			}
		}
	}
	for _, s := range r.settings {
		for _, env := range s.Env {
			v, ok := r.getenv(env)
			if !ok || v == "" {
				continue
			}
			if err := s.set(&c, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
			from[s.Key] = env
			break
		}
	}
	if r.flag != nil {
		for _, s := range r.settings {
			if v, ok := r.flag(s); ok {
				if err := s.set(&c, v); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", s.Flag, err))
				}
				from[s.Key] = s.Flag
			}
		}
	}
	return c, from, errors.Join(errs...)
}

// fileEntry is one key of a config file.
type fileEntry struct {
	key string
	raw json.RawMessage
	pos string // path:line:column of the key
}

// maxConfigBytes bounds a config file: a few hundred bytes are usual.
const maxConfigBytes = 1 << 20

// readConfigFile reads the JSON object of a config file, reporting every
// unknown or repeated key with its line and column.
func readConfigFile(path string) ([]fileEntry, error) {
	b, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	syntax := func(err error) error {
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			return fmt.Errorf("%s: not valid JSON: %v", position(path, b, int(se.Offset)), err)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: the JSON object of settings ends early", position(path, b, len(b)))
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty; want a JSON object of settings such as {\"model\": \"qwen2.5:7b\"}", path)
	}
	if err != nil {
		return nil, syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%s: want a JSON object of settings such as {\"model\": \"qwen2.5:7b\"}", position(path, b, 0))
	}
	var (
		entries []fileEntry
		errs    []error
		seen    = map[string]string{}
	)
	for dec.More() {
		off := keyStart(b, int(dec.InputOffset()))
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntax(err)
		}
		pos := position(path, b, off)
		switch _, known := lookup(key); {
		case seen[key] != "":
			errs = append(errs, fmt.Errorf("%s: %q is given twice (first at %s)", pos, key, seen[key]))
		case !known:
			errs = append(errs, fmt.Errorf("%s: unknown key %s%s", pos, excerpt(key), suggest(key)))
		default:
			entries = append(entries, fileEntry{key: key, raw: raw, pos: pos})
		}
		if seen[key] == "" {
			seen[key] = pos
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, syntax(err)
	}
	end := keyStart(b, int(dec.InputOffset()))
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: more after the JSON object of settings", position(path, b, end))
	}
	return entries, errors.Join(errs...)
}

// readBounded reads a regular file of at most maxConfigBytes.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			err = pe.Err
		}
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("config file %s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if len(b) > maxConfigBytes {
		return nil, fmt.Errorf("config file %s is larger than %s: it is not a config file", path, Bytes(maxConfigBytes))
	}
	return b, nil
}

// keyStart returns the offset of the first byte at or after off that is
// not white space or a comma.
func keyStart(b []byte, off int) int {
	for off < len(b) && strings.IndexByte(" \t\r\n,", b[off]) >= 0 {
		off++
	}
	return off
}

// position returns path:line:column of the byte at off.
func position(path string, b []byte, off int) string {
	off = min(off, len(b))
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	col := off - (bytes.LastIndexByte(b[:off], '\n') + 1) + 1
	return fmt.Sprintf("%s:%d:%d", path, line, col)
}

// suggest names the key closest to an unknown one, when one is close.
func suggest(key string) string {
	best, dist := "", 3
	for _, s := range Settings {
		if d := editDistance(strings.ToLower(key), s.Key); d < dist {
			best, dist = s.Key, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// fromJSON returns the text form of a config-file value of the given
// kind: strings for text, numbers for numbers, either for durations (a
// number is seconds) and sizes.
func fromJSON(k kind, raw json.RawMessage) (string, error) {
	got := jsonType(raw)
	want := map[kind]string{kindText: "a string", kindInt: "a whole number", kindFloat: "a number",
		kindDuration: `a duration such as "90s" or a number of seconds`, kindSize: `a number of bytes or a size such as "8MiB"`}[k]
	switch {
	case got == "a string" && (k == kindText || k == kindDuration || k == kindSize):
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case got == "a number" && k == kindDuration:
		d, ok := seconds(raw)
		if !ok {
			return "", fmt.Errorf("want %s, got %.40s", want, raw)
		}
		return d.String(), nil
	case got == "a number" && (k == kindInt || k == kindFloat || k == kindSize):
		return string(raw), nil
	}
	return "", fmt.Errorf("want %s, got %s", want, got)
}

// jsonType names the type of a JSON value.
func jsonType(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "true or false"
	case 'n':
		return "null"
	}
	return "a number"
}
