package config

import (
	"os"
	"path/filepath"
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
	for _, s := range Settings {
		for _, e := range s.Env {
			if !strings.Contains(b.String(), e) {
				t.Errorf("help lacks %s", e)
			}
		}
		c := Default()
		if err := c.set(s.Key, "1"); err != nil && strings.Contains(err.Error(), "unknown setting") {
			t.Errorf("setting %s cannot be set: %v", s.Key, err)
		}
	}
}
