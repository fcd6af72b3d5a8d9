package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Store names the database of a run: an SQLite file, given as a path or
// as sqlite:PATH (sqlite:///abs/path also reads as /abs/path), or a
// PostgreSQL database shared by many machines, as a postgres:// or
// postgresql:// URL.
type Store struct {
	Driver string // "sqlite" or "postgres"; empty for the zero Store, which means the command's default
	Path   string // the SQLite file
	// URL is the PostgreSQL URL as given, password included: for
	// connecting only. String and every message show it redacted.
	URL string
}

// The drivers of a Store.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// ParseStore reads a store setting. The empty string is the zero Store.
func ParseStore(s string) (Store, error) {
	if s == "" {
		return Store{}, nil
	}
	scheme, rest, ok := cutScheme(s)
	if !ok {
		return Store{Driver: "sqlite", Path: s}, nil
	}
	switch scheme {
	case "sqlite", "sqlite3":
		path := strings.TrimPrefix(rest, "//")
		if path == "" {
			return Store{}, fmt.Errorf("store %s names no file: want sqlite:PATH", excerpt(s))
		}
		return Store{Driver: DriverSQLite, Path: path}, nil
	case "postgres", "postgresql":
		// The URL itself is never quoted whole: it may hold a password.
		u, err := url.Parse(s)
		if err != nil || !strings.HasPrefix(rest, "//") {
			return Store{}, errors.New("store: a PostgreSQL store is a URL postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?OPTIONS]; this one cannot be read")
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return Store{}, fmt.Errorf("store %s names no host: want postgres://USER@HOST[:PORT]/DATABASE", RedactURL(s))
		}
		return Store{Driver: DriverPostgres, URL: s}, nil
	}
	if strings.HasPrefix(rest, "//") {
		return Store{}, fmt.Errorf("store: %s:// names no kind of store emer knows; give an SQLite file, as a path or sqlite:PATH, or postgres://...", excerpt(scheme))
	}
	return Store{Driver: "sqlite", Path: s}, nil // a file name with a colon in it
}

// cutScheme splits "scheme:rest" when s begins with a URL scheme of two
// characters or more, lower-casing the scheme.
func cutScheme(s string) (scheme, rest string, ok bool) {
	i := strings.IndexByte(s, ':')
	if i < 2 {
		return "", "", false
	}
	for j, r := range s[:i] {
		letter := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
		if !letter && (j == 0 || !('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return "", "", false
		}
	}
	return strings.ToLower(s[:i]), s[i+1:], true
}

// IsZero reports whether no store is set.
func (s Store) IsZero() bool { return s == Store{} }

// String returns the store as a setting would give it: the path, or
// sqlite:PATH when the path alone would read as something else, or the
// PostgreSQL URL with its password, if any, replaced by xxxxx.
func (s Store) String() string {
	if s.IsZero() {
		return ""
	}
	if s.Driver == DriverPostgres {
		return RedactURL(s.URL)
	}
	if back, err := ParseStore(s.Path); err != nil || back != s {
		return "sqlite:" + s.Path
	}
	return s.Path
}

// MarshalJSON writes s as its String.
func (s Store) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a string ParseStore reads.
func (s *Store) UnmarshalJSON(b []byte) error {
	var text string
	if err := json.Unmarshal(b, &text); err != nil {
		return fmt.Errorf("store: want a string, got %.40s", b)
	}
	v, err := ParseStore(text)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// RedactURL returns the database URL u with its passwords replaced by
// xxxxx, for messages and logs: the one in its user part and a password
// (or sslpassword) parameter of its query, which libpq URLs also take.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "postgres://..."
	}
	if q := p.Query(); q.Has("password") || q.Has("sslpassword") {
		for _, k := range []string{"password", "sslpassword"} {
			if q.Has(k) {
				q.Set(k, "xxxxx")
			}
		}
		p.RawQuery = q.Encode()
	}
	return p.Redacted()
}
