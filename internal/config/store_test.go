package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseStore(t *testing.T) {
	for _, tt := range []struct {
		in     string
		want   Store
		str    string // String(); "" means tt.in
		errHas string // when it fails
	}{
		{in: "", want: Store{}},
		{in: "runs/emer.db", want: Store{Driver: "sqlite", Path: "runs/emer.db"}},
		{in: "/var/lib/emer.db", want: Store{Driver: "sqlite", Path: "/var/lib/emer.db"}},
		{in: "sqlite:runs/x.db", want: Store{Driver: "sqlite", Path: "runs/x.db"}, str: "runs/x.db"},
		{in: "SQLite:x.db", want: Store{Driver: "sqlite", Path: "x.db"}, str: "x.db"},
		{in: "sqlite3:x.db", want: Store{Driver: "sqlite", Path: "x.db"}, str: "x.db"},
		{in: "sqlite:///tmp/x.db", want: Store{Driver: "sqlite", Path: "/tmp/x.db"}, str: "/tmp/x.db"},
		{in: "run:1.db", want: Store{Driver: "sqlite", Path: "run:1.db"}},
		{in: "sqlite:sqlite:x.db", want: Store{Driver: "sqlite", Path: "sqlite:x.db"}},
		{in: "a:b.db", want: Store{Driver: "sqlite", Path: "a:b.db"}},
		{in: "sqlite:", errHas: `store "sqlite:" names no file`},
		{in: "postgres://emer@db:5432/emer", want: Store{Driver: "postgres", URL: "postgres://emer@db:5432/emer"}},
		{in: "postgresql://db/emer?sslmode=disable", want: Store{Driver: "postgres", URL: "postgresql://db/emer?sslmode=disable"}},
		{in: "postgres:///emer?host=/run/postgresql", want: Store{Driver: "postgres", URL: "postgres:///emer?host=/run/postgresql"}},
		{in: "postgres:///emer", errHas: "store postgres:///emer names no host"},
		{in: "postgres://emer:secret@/emer", errHas: "store postgres://emer:xxxxx@/emer names no host"},
		{in: "postgres:emer", errHas: "a PostgreSQL store is a URL postgres://"},
		{in: "postgres://emer:secret@db:5432/emer%zz", errHas: "this one cannot be read"},
		{in: "mysql://emer:secret@db/emer", errHas: `store: "mysql":// names no kind of store emer knows`},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseStore(tt.in)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) || strings.Contains(err.Error(), "secret") {
					t.Fatalf("ParseStore(%q) = %+v, %v; want an error with %q and no password", tt.in, got, err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("store (-want +got):\n%s", diff)
			}
			str := tt.str
			if str == "" {
				str = tt.in
			}
			if got.String() != str {
				t.Errorf("String() = %q, want %q", got.String(), str)
			}
			if back, err := ParseStore(got.String()); err != nil || back != got {
				t.Errorf("ParseStore(String()) = %+v, %v; want %+v", back, err, got)
			}
		})
	}
}

func TestStoreJSON(t *testing.T) {
	var s Store
	if err := s.UnmarshalJSON([]byte(`"sqlite:a.db"`)); err != nil || s != (Store{Driver: "sqlite", Path: "a.db"}) {
		t.Errorf("UnmarshalJSON = %+v, %v", s, err)
	}
	if b, err := s.MarshalJSON(); err != nil || string(b) != `"a.db"` {
		t.Errorf("MarshalJSON = %s, %v", b, err)
	}
	if err := s.UnmarshalJSON([]byte(`"postgres://u:secret@/db"`)); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("UnmarshalJSON(postgres without a host) = %v", err)
	}
}

// TestPostgresPasswordNeverShown: the URL keeps the password for
// connecting; String and JSON show it redacted.
func TestPostgresPasswordNeverShown(t *testing.T) {
	s, err := ParseStore("postgres://emer:secret@db:5432/emer?sslmode=require")
	if err != nil {
		t.Fatal(err)
	}
	if s.URL != "postgres://emer:secret@db:5432/emer?sslmode=require" {
		t.Errorf("URL = %q, want it as given", s.URL)
	}
	if want := "postgres://emer:xxxxx@db:5432/emer?sslmode=require"; s.String() != want {
		t.Errorf("String() = %q, want %q", s.String(), want)
	}
	if b, err := s.MarshalJSON(); err != nil || strings.Contains(string(b), "secret") {
		t.Errorf("MarshalJSON = %s, %v", b, err)
	}
}

// TestRedactURL: a store URL in a message shows no password, neither the
// user part's nor one given as a libpq query parameter.
func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"postgres://emer:secret@db/emer", "postgres://emer:xxxxx@db/emer"},
		{"postgres://emer@db/emer?password=secret&sslmode=require", "postgres://emer@db/emer?password=xxxxx&sslmode=require"},
		{"postgres://db/emer?sslpassword=secret", "postgres://db/emer?sslpassword=xxxxx"},
		{"postgres://emer@db/emer", "postgres://emer@db/emer"},
		{"postgres://%zz", "postgres://..."},
	} {
		got := RedactURL(tt.in)
		if got != tt.want || strings.Contains(got, "secret") {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	s, err := ParseStore("postgres://emer@db/emer?password=secret")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.String(), "secret") {
		t.Errorf("store %s shows its password", s)
	}
}
