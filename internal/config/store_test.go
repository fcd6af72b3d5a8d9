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
		{in: "runs/emer.db", want: Store{"sqlite", "runs/emer.db"}},
		{in: "/var/lib/emer.db", want: Store{"sqlite", "/var/lib/emer.db"}},
		{in: "sqlite:runs/x.db", want: Store{"sqlite", "runs/x.db"}, str: "runs/x.db"},
		{in: "SQLite:x.db", want: Store{"sqlite", "x.db"}, str: "x.db"},
		{in: "sqlite3:x.db", want: Store{"sqlite", "x.db"}, str: "x.db"},
		{in: "sqlite:///tmp/x.db", want: Store{"sqlite", "/tmp/x.db"}, str: "/tmp/x.db"},
		{in: "run:1.db", want: Store{"sqlite", "run:1.db"}},
		{in: "sqlite:sqlite:x.db", want: Store{"sqlite", "sqlite:x.db"}},
		{in: "a:b.db", want: Store{"sqlite", "a:b.db"}},
		{in: "sqlite:", errHas: `store "sqlite:" names no file`},
		{in: "postgres://emer:secret@db:5432/emer", errHas: "a PostgreSQL store (postgres://...) is not supported yet; give an SQLite file, as a path or sqlite:PATH"},
		{in: "postgresql://emer:secret@db/emer", errHas: "not supported yet"},
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
	if err := s.UnmarshalJSON([]byte(`"sqlite:a.db"`)); err != nil || s != (Store{"sqlite", "a.db"}) {
		t.Errorf("UnmarshalJSON = %+v, %v", s, err)
	}
	if b, err := s.MarshalJSON(); err != nil || string(b) != `"a.db"` {
		t.Errorf("MarshalJSON = %s, %v", b, err)
	}
	if err := s.UnmarshalJSON([]byte(`"postgres://u:secret@h/db"`)); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("UnmarshalJSON(postgres) = %v", err)
	}
}
