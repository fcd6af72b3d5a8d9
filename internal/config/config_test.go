package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadLayers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "emer.json")
	if err := os.WriteFile(path, []byte(`{"base_url": "http://file/v1", "model": "file-model", "timeout": "30s", "concurrency": 4}`), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load("", env(map[string]string{
		"EMER_CONFIG":    path,
		"EMER_MODEL":     "env-model",
		"OPENAI_API_KEY": "sk-openai",
		"EMER_RATE":      "2.5",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.BaseURL, want.Model, want.APIKey = "http://file/v1", "env-model", "sk-openai"
	want.Timeout, want.Concurrency, want.Rate = Duration(30*time.Second), 4, 2.5
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
}

func TestAPIKeyPreference(t *testing.T) {
	c, _ := Load("", env(map[string]string{"EMER_API_KEY": "sk-emer", "OPENAI_API_KEY": "sk-openai"}))
	if c.APIKey != "sk-emer" {
		t.Errorf("api key %q, want EMER_API_KEY's", c.APIKey)
	}
}

func TestLoadErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "emer.json")
	if err := os.WriteFile(path, []byte(`{"modle": "typo"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, env(nil)); err == nil || !strings.Contains(err.Error(), "modle") {
		t.Errorf("unknown key: err = %v", err)
	}
	_, err := Load("", env(map[string]string{"EMER_TIMEOUT": "soon", "EMER_CONCURRENCY": "many"}))
	if err == nil || !strings.Contains(err.Error(), "EMER_TIMEOUT") || !strings.Contains(err.Error(), "EMER_CONCURRENCY") {
		t.Errorf("bad env: err = %v, want both variables named", err)
	}
	bad := Config{BaseURL: "ftp://x", Concurrency: 0, MaxAttempts: 0}
	err = bad.Validate()
	for _, want := range []string{"base_url", "model", "concurrency", "max_attempts"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want it to name %s", err, want)
		}
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var b strings.Builder
	WriteHelp(&b)
	for _, s := range settingsOf(ChatKeys) {
		for _, e := range s.Env {
			if !strings.Contains(b.String(), e) {
				t.Errorf("help lacks %s", e)
			}
		}
	}
}

// TestSettingsCoverConfig checks that every field of Config is a setting
// under its JSON key, and that each setting reads back what it writes.
func TestSettingsCoverConfig(t *testing.T) {
	typ := reflect.TypeFor[Config]()
	var fields []string
	for f := range typ.Fields() {
		fields = append(fields, strings.Split(f.Tag.Get("json"), ",")[0])
	}
	var keys []string
	for _, s := range Settings {
		keys = append(keys, s.Key)
		if s.set == nil || s.get == nil || s.Type == "" || s.Help == "" || len(s.Env) == 0 {
			t.Errorf("setting %s lacks its parser, getter, type, help or variable", s.Key)
		}
		c := Default()
		if err := s.set(&c, s.get(Default())); err != nil && s.get(Default()) != "" {
			t.Errorf("setting %s: its default %q does not read back: %v", s.Key, s.get(Default()), err)
		}
		if diff := cmp.Diff(Default(), c); diff != "" {
			t.Errorf("setting %s: default read back (-want +got):\n%s", s.Key, diff)
		}
	}
	if diff := cmp.Diff(fields, keys); diff != "" {
		t.Errorf("Config's JSON keys (-) against Settings (+):\n%s", diff)
	}
	if err := Default().Validate(); err == nil || err.Error() != "model is empty (--model or EMER_MODEL)" {
		t.Errorf("Default().Validate() = %v, want only the missing model", err)
	}
}

func TestLoadNormalisesBaseURL(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		file string
		want string
	}{
		{"environment with a trailing slash", map[string]string{"EMER_BASE_URL": "http://127.0.0.1:8000/v1/"}, "", "http://127.0.0.1:8000/v1"},
		{"environment with upper case and a default port", map[string]string{"EMER_BASE_URL": "HTTPS://Judge.Example.COM:443/v1//"}, "", "https://judge.example.com/v1"},
		{"file with a trailing slash", nil, `{"base_url": "http://file:8080/v1/"}`, "http://file:8080/v1"},
		{"default", nil, "", "http://127.0.0.1:8000/v1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = filepath.Join(t.TempDir(), "emer.json")
				if err := os.WriteFile(path, []byte(tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(path, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.BaseURL != tt.want {
				t.Errorf("base_url %q, want %q", c.BaseURL, tt.want)
			}
		})
	}
}

func TestValidateBaseURL(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8000/v1", true},
		{"HTTPS://api.example.com/v1/", true},
		{"ftp://x/v1", false},
		{"http://", false},
		{"127.0.0.1:8000/v1", false},
	} {
		t.Run(tt.url, func(t *testing.T) {
			c := Default()
			c.BaseURL, c.Model = tt.url, "m"
			err := c.Validate()
			if (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestMaxReplyBytes(t *testing.T) {
	if got := Default().MaxReplyBytes; got != 8<<20 {
		t.Errorf("default max_reply_bytes %v, want 8MiB", got)
	}
	for _, tt := range []struct {
		name string
		env  string
		file string
		want Bytes
	}{
		{"environment, plain number", "1048576", "", 1 << 20},
		{"environment, MiB", "16MiB", "", 16 << 20},
		{"environment, KiB with a space, lower case", "512 kib", "", 512 << 10},
		{"environment, B", "1000B", "", 1000},
		{"file, number", "", `{"max_reply_bytes": 65536}`, 64 << 10},
		{"file, string", "", `{"max_reply_bytes": "2GiB"}`, 2 << 30},
		{"environment over file", "1KiB", `{"max_reply_bytes": "2GiB"}`, 1 << 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = filepath.Join(t.TempDir(), "emer.json")
				if err := os.WriteFile(path, []byte(tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			vars := map[string]string{}
			if tt.env != "" {
				vars["EMER_MAX_REPLY_BYTES"] = tt.env
			}
			c, err := Load(path, env(vars))
			if err != nil {
				t.Fatal(err)
			}
			if c.MaxReplyBytes != tt.want {
				t.Errorf("max_reply_bytes %d, want %d", c.MaxReplyBytes, tt.want)
			}
		})
	}
	for _, bad := range []string{"lots", "8 MB", "1.5MiB", "MiB", "99999999999GiB"} {
		t.Run("bad "+bad, func(t *testing.T) {
			_, err := Load("", env(map[string]string{"EMER_MAX_REPLY_BYTES": bad}))
			if err == nil || !strings.Contains(err.Error(), "EMER_MAX_REPLY_BYTES") || !strings.Contains(err.Error(), bad) {
				t.Errorf("err = %v, want it to name EMER_MAX_REPLY_BYTES and quote %q", err, bad)
			}
		})
	}
	c := Default()
	c.Model, c.MaxReplyBytes = "m", -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "max_reply_bytes") {
		t.Errorf("negative max_reply_bytes: Validate() = %v", err)
	}
}

func TestBytesString(t *testing.T) {
	for b, want := range map[Bytes]string{0: "0", 8 << 20: "8MiB", 4 << 10: "4KiB", 3 << 30: "3GiB", 1000: "1000", 1536 << 10: "1536KiB"} {
		if got := b.String(); got != want {
			t.Errorf("Bytes(%d).String() = %q, want %q", int64(b), got, want)
		}
		if back, err := ParseBytes(want); err != nil || back != b {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", want, back, err, int64(b))
		}
	}
}
