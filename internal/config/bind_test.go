package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
)

// bind binds keys on a fresh flag set and parses args.
func bind(t *testing.T, args []string, keys ...string) (*Binding, *pflag.FlagSet) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	b := Bind(fs, keys...)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return b, fs
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "emer.json")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestResolveLayers(t *testing.T) {
	file := writeConfig(t, `{"model": "file-model", "concurrency": 4, "timeout": "30s", "rate": 1, "wheels": "/file/wheels"}`)
	base := func(f func(c *Config)) Config {
		c := Default()
		c.Model = "m"
		f(&c)
		return c
	}
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want Config
	}{
		{"defaults", []string{"--model", "m"}, nil, base(func(*Config) {})},
		{"config file by flag", []string{"--config", file}, nil, base(func(c *Config) {
			c.Model, c.Concurrency, c.Timeout, c.Rate = "file-model", 4, Duration(30*time.Second), 1
		})},
		{"config file by variable", nil, map[string]string{"EMER_CONFIG": file}, base(func(c *Config) {
			c.Model, c.Concurrency, c.Timeout, c.Rate = "file-model", 4, Duration(30*time.Second), 1
		})},
		{"environment over file", []string{"--config", file}, map[string]string{"EMER_CONCURRENCY": "12", "EMER_MODEL": "env-model", "EMER_RATE": ""},
			base(func(c *Config) {
				c.Model, c.Concurrency, c.Timeout, c.Rate = "env-model", 12, Duration(30*time.Second), 1
			})},
		{"flags over environment", []string{"--config", file, "--concurrency", "2", "--model", "flag-model", "--timeout", "5s"},
			map[string]string{"EMER_CONCURRENCY": "12", "EMER_MODEL": "env-model", "EMER_TIMEOUT": "1m"},
			base(func(c *Config) {
				c.Model, c.Concurrency, c.Timeout, c.Rate = "flag-model", 2, Duration(5*time.Second), 1
			})},
		{"a flag set to its default still wins", []string{"--model", "m", "--concurrency", "8"}, map[string]string{"EMER_CONCURRENCY": "12"}, base(func(*Config) {})},
		{"settings without a flag", []string{"--model", "m"}, map[string]string{"OPENAI_API_KEY": "sk-o", "EMER_MAX_REPLY_BYTES": "1KiB", "EMER_BREAKER_FAILURES": "2"},
			base(func(c *Config) { c.APIKey, c.MaxReplyBytes, c.BreakerFailures = "sk-o", 1<<10, 2 })},
		{"normalised", []string{"--model", "m", "--base-url", "HTTP://Judge:80/v1/", "--cache", "sqlite:c.db"}, nil,
			base(func(c *Config) { c.BaseURL, c.Cache = "http://judge/v1", "c.db" })},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := bind(t, tt.args, ChatKeys...)
			got, err := b.Resolve(env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResolveEverySetting reads a file that sets every setting.
func TestResolveEverySetting(t *testing.T) {
	var keys []string
	for _, s := range Settings {
		keys = append(keys, s.Key)
	}
	b, _ := bind(t, []string{"--config", filepath.Join("testdata", "all.good.json")}, keys...)
	got, err := b.Resolve(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		BaseURL: "http://judge.example/v1", Model: "qwen2.5:7b", APIKey: "sk-file", Timeout: Duration(90 * time.Second),
		MaxAttempts: 4, Concurrency: 16, Rate: 2.5, MaxTokens: 512, MaxReplyBytes: 1 << 20, BreakerFailures: 3,
		Cache: "shared/cache.db", Store: Store{Driver: "sqlite", Path: "/var/lib/emer/runs.db"},
		CaptionModel: "qwen2.5-vl:7b", ASRURL: "http://127.0.0.1:8080/v1", ASRModel: "whisper-1",
		Models: "/opt/emer/models", Wheels: "/opt/emer/wheels",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

// TestResolveUnbound checks that one config file serves every command:
// keys of settings a command does not bind are accepted, checked and left
// alone, and their variables are not read.
func TestResolveUnbound(t *testing.T) {
	file := writeConfig(t, `{"model": "m", "wheels": "/w", "asr_url": "http://asr/v1", "asr_model": "whisper-1"}`)
	b, _ := bind(t, []string{"--config", file}, ChatKeys...)
	got, err := b.Resolve(env(map[string]string{"EMER_STORE": "postgres://u:p@h/db", "EMER_MODELS": "/m"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Model = "m"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	bad := writeConfig(t, `{"model": "m", "asr_url": 8080}`)
	b, _ = bind(t, []string{"--config", bad}, ChatKeys...)
	if _, err := b.Resolve(env(nil)); err == nil || !strings.Contains(err.Error(), "asr_url: want a string, got a number") {
		t.Errorf("a bad value of an unbound setting: err = %v", err)
	}
}

func TestResolveInferDefaults(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/cache")
	keys := append(append([]string{}, ChatKeys...), "caption_model", "asr_url", "asr_model", "models")
	b, _ := bind(t, []string{"--model", "qwen2.5-vl:7b"}, keys...)
	got, err := b.Resolve(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.CaptionModel != "qwen2.5-vl:7b" || got.Models != "/cache/emer/models" || got.ASRURL != "" {
		t.Errorf("caption_model %q, models %q, asr_url %q; want the model, /cache/emer/models and none", got.CaptionModel, got.Models, got.ASRURL)
	}
	b, _ = bind(t, []string{"--model", "m", "--caption-model", "c", "--models", "/here", "--asr-url", "http://asr:9000/v1/", "--asr-model", "w"}, keys...)
	got, err = b.Resolve(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.CaptionModel != "c" || got.Models != "/here" || got.ASRURL != "http://asr:9000/v1" || got.ASRModel != "w" {
		t.Errorf("got %+v", got)
	}
}

func TestResolveErrors(t *testing.T) {
	td := func(name string) string { return filepath.Join("testdata", name) }
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		keys []string
		want []string // every one of these in the error
		not  []string // none of these
	}{
		{name: "unknown keys", args: []string{"--config", td("unknown-key.bad.json")},
			want: []string{td("unknown-key.bad.json") + `:3:3: unknown key "modle" (did you mean "model"?)`, `:5:3: unknown key "timeout_s" (did you mean "timeout"?)`}},
		{name: "a key twice", args: []string{"--config", td("duplicate.bad.json")},
			want: []string{td("duplicate.bad.json") + `:4:3: "model" is given twice (first at ` + td("duplicate.bad.json") + `:2:3)`}},
		{name: "values", args: []string{"--config", td("values.bad.json")}, keys: append([]string{"store"}, ChatKeys...),
			want: []string{
				`:2:3: concurrency: want a whole number, got a string`,
				`:3:3: rate: want a number, got true or false`,
				`:4:3: model: want a string, got a number`,
				`:5:3: timeout: want a duration such as 90s or 2m, got "soon"`,
				`:6:3: max_reply_bytes: size "8 MB"`,
				`:7:3: store: store postgres://emer:xxxxx@/emer names no host`,
			},
			not: []string{"secret"}},
		{name: "syntax", args: []string{"--config", td("syntax.bad.json")}, want: []string{td("syntax.bad.json") + ":4:1: not valid JSON"}},
		{name: "truncated", args: []string{"--config", td("truncated.bad.json")}, want: []string{td("truncated.bad.json") + ":4:1: the JSON object of settings ends early"}},
		{name: "trailing", args: []string{"--config", td("trailing.bad.json")}, want: []string{td("trailing.bad.json") + ":2:1: more after the JSON object"}},
		{name: "array", args: []string{"--config", td("array.bad.json")}, want: []string{td("array.bad.json") + ":1:1: want a JSON object of settings"}},
		{name: "empty", args: []string{"--config", td("empty.bad.json")}, want: []string{td("empty.bad.json") + ": empty; want a JSON object"}},
		{name: "missing", args: []string{"--config", td("none.json")}, want: []string{"config file " + td("none.json") + ": no such file or directory"}},
		{name: "a folder", args: []string{"--config", "testdata"}, want: []string{"config file testdata is not a regular file"}},
		{name: "environment", args: []string{"--model", "m"}, env: map[string]string{"EMER_TIMEOUT": "soon", "EMER_CONCURRENCY": "many", "EMER_RATE": "NaN"},
			want: []string{`EMER_TIMEOUT: want a duration such as 90s or 2m, got "soon"`, `EMER_CONCURRENCY: want a whole number, got "many"`, `EMER_RATE: want a number, got "NaN"`}},
		{name: "out of range, named by source", args: []string{"--model", "m", "--max-attempts", "0"}, env: map[string]string{"EMER_CONCURRENCY": "0", "EMER_BREAKER_FAILURES": "0"},
			want: []string{"EMER_CONCURRENCY: concurrency 0 is below 1", "--max-attempts: max_attempts 0 is below 1", "EMER_BREAKER_FAILURES: breaker_failures 0 is below 1"}},
		{name: "base URL", args: []string{"--model", "m", "--base-url", "127.0.0.1:8000/v1"}, want: []string{`--base-url: base_url "127.0.0.1:8000/v1" is not an http(s) URL`}},
		{name: "model required", keys: ChatKeys, want: []string{"model is empty (--model or EMER_MODEL)"}},
		{name: "store", args: []string{"--model", "m"}, env: map[string]string{"EMER_STORE": "postgresql://emer:secret@/emer"}, keys: append([]string{"store"}, ChatKeys...),
			want: []string{"EMER_STORE: store postgresql://emer:xxxxx@/emer names no host: want postgres://USER@HOST[:PORT]/DATABASE"}, not: []string{"secret"}},
		{name: "ASR without a model", args: []string{"--asr-url", "http://asr/v1"}, keys: []string{"asr_url", "asr_model"},
			want: []string{"asr_model is empty: the speech-to-text server at http://asr/v1 needs a model name"}},
		{name: "ASR URL", args: []string{"--asr-url", "asr:9000", "--asr-model", "w"}, keys: []string{"asr_url", "asr_model"}, want: []string{`--asr-url: asr_url "asr:9000" is not an http(s) URL`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			keys := tt.keys
			if keys == nil {
				keys = ChatKeys
			}
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			b := Bind(fs, keys...)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if slices.Contains(keys, "model") {
				b.Require("model")
			}
			_, err := b.Resolve(env(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error quotes %q:\n%v", n, err)
				}
			}
		})
	}
}

// TestFlagErrors checks that a bad flag value fails as the command line
// is parsed, naming the flag.
func TestFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--timeout", "soon"}, `invalid argument "soon" for "--timeout" flag: want a duration such as 90s or 2m, got "soon"`},
		{[]string{"--concurrency", "1.5"}, `invalid argument "1.5" for "--concurrency" flag: want a whole number`},
		{[]string{"--rate", "Inf"}, `invalid argument "Inf" for "--rate" flag: want a number`},
		{[]string{"--cache", "postgres://h/db"}, `"--cache" flag: cache: store: a PostgreSQL store keeps its own cache`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			fs.SetOutput(new(strings.Builder))
			Bind(fs, ChatKeys...)
			err := fs.Parse(tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestRateMustBeFinite is a regression test: NaN and infinite rates were
// read and passed validation, and an infinite one lifted the limit.
func TestRateMustBeFinite(t *testing.T) {
	for _, v := range []string{"NaN", "nan", "Inf", "+Inf", "-Inf", "infinity"} {
		t.Run(v, func(t *testing.T) {
			c, err := Load("", env(map[string]string{"EMER_RATE": v}))
			if err == nil {
				c.Model = "m"
				err = c.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), "EMER_RATE") {
				t.Errorf("EMER_RATE=%s: rate %v, err %v; want an error naming EMER_RATE", v, c.Rate, err)
			}
		})
	}
}

// TestDurationJSONOverflow is a regression test: a number of seconds too
// large for a time.Duration became a negative duration.
func TestDurationJSONOverflow(t *testing.T) {
	for _, raw := range []string{"1e300", "-1e300", "9300000000"} {
		var d Duration
		if err := d.UnmarshalJSON([]byte(raw)); err == nil {
			t.Errorf("Duration.UnmarshalJSON(%s) = %v, want an error", raw, d)
		}
		path := writeConfig(t, `{"timeout": `+raw+`}`)
		if _, err := Load(path, env(nil)); err == nil || !strings.Contains(err.Error(), "timeout: want a duration") {
			t.Errorf("config timeout %s: err = %v", raw, err)
		}
	}
	var d Duration
	if err := d.UnmarshalJSON([]byte("90")); err != nil || d != Duration(90*time.Second) {
		t.Errorf("Duration.UnmarshalJSON(90) = %v, %v", d, err)
	}
}

func TestBindHelp(t *testing.T) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	b := Bind(fs, ChatKeys...).Require("model")
	usage := fs.FlagUsages()
	for _, want := range []string{
		`--base-url url`, `($EMER_BASE_URL) (default http://127.0.0.1:8000/v1)`,
		`--timeout duration`, `($EMER_TIMEOUT) (default 2m0s)`,
		`--concurrency int`, `--rate float`, `--cache path`,
		`--config string`, `(default $EMER_CONFIG)`,
	} {
		if !strings.Contains(usage, want) {
			t.Errorf("flag usage lacks %q:\n%s", want, usage)
		}
	}
	if strings.Contains(usage, "--api-key") {
		t.Errorf("flag usage offers the API key as a flag:\n%s", usage)
	}
	help := b.Help()
	for _, s := range settingsOf(ChatKeys) {
		for _, e := range s.Env {
			if !strings.Contains(help, e) {
				t.Errorf("help lacks %s:\n%s", e, help)
			}
		}
	}
	for _, absent := range []string{"EMER_WHEELS", "EMER_ASR_URL", "EMER_STORE"} {
		if strings.Contains(help, absent) {
			t.Errorf("help lists %s, a setting not bound:\n%s", absent, help)
		}
	}
	for _, want := range []string{"Settings (later sources win: defaults, config file, environment, flags):", "(required)", "EMER_CONFIG", "HTTPS_PROXY"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
}

// TestBindShowDefault: a command's help may word a setting's default its
// own way; the table's stays for the other commands and the values.
func TestBindShowDefault(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	b := Bind(fs, "store").ShowDefault("store", "--db FILE")
	if help := b.Help(); !strings.Contains(help, "--db FILE") || strings.Contains(help, "DIR/emer.db") {
		t.Errorf("help of the command that shows its own default:\n%s", help)
	}
	if help := Bind(pflag.NewFlagSet("eval", pflag.ContinueOnError), "store").Help(); !strings.Contains(help, "DIR/emer.db") {
		t.Errorf("help of another command:\n%s", help)
	}
	cfg, err := b.Resolve(func(string) (string, bool) { return "", false })
	if err != nil || cfg.Store != (Store{}) {
		t.Errorf("resolved store %+v, %v; want the zero store", cfg.Store, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a default shown for a setting not bound")
		}
	}()
	Bind(pflag.NewFlagSet("x", pflag.ContinueOnError), "base_url").ShowDefault("store", "x")
}

func TestBindUnknownKeyPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"base-url"`) {
			t.Errorf("recover() = %v, want a panic naming the key", r)
		}
	}()
	Bind(pflag.NewFlagSet("test", pflag.ContinueOnError), "base-url")
}
