package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"emer/internal/llm"
)

// Config holds every setting of emer. Which of them a command reads is the
// keys it binds (see Bind); the others keep their defaults.
type Config struct {
	// The chat model server.
	BaseURL     string   `json:"base_url"`
	Model       string   `json:"model"`
	APIKey      string   `json:"api_key"`
	Timeout     Duration `json:"timeout"`
	MaxAttempts int      `json:"max_attempts"`
	Concurrency int      `json:"concurrency"`
	Rate        float64  `json:"rate"`
	MaxTokens   int      `json:"max_tokens"`

	// MaxReplyBytes caps the body read of one reply; 0 means
	// llm.DefaultMaxReplyBytes.
	MaxReplyBytes Bytes `json:"max_reply_bytes"`
	// BreakerFailures is how many connection failures in a row make a
	// run stop calling the server (llm.Breaker).
	BreakerFailures int `json:"breaker_failures"`

	// Cache is the SQLite file of cached replies; empty means the store.
	// A sqlite:PATH given for it is kept as PATH.
	Cache string `json:"cache"`
	// Store is the database of a run's results; the zero Store means the
	// command's own, DIR/emer.db in its output folder.
	Store Store `json:"store"`

	// The models of emer infer besides Model: CaptionModel describes the
	// frames, on the server at BaseURL; ASRURL and ASRModel name the
	// speech-to-text server (empty: none) and its model.
	CaptionModel string `json:"caption_model"`
	ASRURL       string `json:"asr_url"`
	ASRModel     string `json:"asr_model"`

	// Models is the folder of the offline perception's model files;
	// Wheels the emotion-wheel folder or wheel_mapping.npz.
	Models string `json:"models"`
	Wheels string `json:"wheels"`

	// AdminToken opens the organizer pages of emer serve; empty: a new
	// one is made and printed at each start.
	AdminToken string `json:"admin_token"`
}

// Default returns the settings before any file, variable or flag.
func Default() Config {
	return Config{
		BaseURL:     "http://127.0.0.1:8000/v1",
		Timeout:     Duration(120 * time.Second),
		MaxAttempts: 6,
		Concurrency: 8,

		MaxReplyBytes:   llm.DefaultMaxReplyBytes,
		BreakerFailures: llm.DefaultBreakerFailures,
	}
}

// StackConfig returns the llm.StackConfig of c's model-server settings;
// the caller adds the cache and the log.
func (c Config) StackConfig() llm.StackConfig {
	return llm.StackConfig{
		BaseURL:         c.BaseURL,
		APIKey:          c.APIKey,
		Timeout:         time.Duration(c.Timeout),
		MaxReplyBytes:   int64(c.MaxReplyBytes),
		Concurrency:     c.Concurrency,
		Rate:            c.Rate,
		MaxAttempts:     c.MaxAttempts,
		BreakerFailures: c.BreakerFailures,
	}
}

// Setting describes one setting.
type Setting struct {
	Key     string   // key in the config file
	Env     []string // environment variables, the first one set and not empty wins
	Flag    string   // command-line flag, e.g. --base-url; empty: none
	Default string   // as the help shows it
	Help    string
	Type    string // of the value, as flag help names it: string, url, int, float, duration, size, path

	kind  kind
	set   func(c *Config, v string) error // from the text form, as in a variable or flag
	get   func(c Config) string           // the text form
	check func(c Config) error            // the resolved value's validity; nil: any
}

// kind is how a setting is written in the config file.
type kind int

const (
	kindText     kind = iota // a JSON string
	kindInt                  // a JSON number, whole
	kindFloat                // a JSON number
	kindDuration             // a string such as "90s", or a number of seconds
	kindSize                 // a number of bytes, or a string such as "8MiB"
)

// Names of the environment variables that commands outside this package
// mention in their help and messages.
const (
	// ConfigEnv names the config file (the --config flag wins over it).
	ConfigEnv = "EMER_CONFIG"
	EnvModels = "EMER_MODELS"
	EnvWheels = "EMER_WHEELS"
)

// ChatKeys are the settings of a command that talks to a chat model
// server through an llm.Stack.
var ChatKeys = []string{"base_url", "model", "api_key", "timeout", "max_attempts", "concurrency", "rate", "max_tokens", "max_reply_bytes", "breaker_failures", "cache"}

// Settings lists every setting, and with ConfigEnv every environment
// variable emer reads itself. The Go standard library reads a few more
// on emer's behalf; OtherEnv lists them.
var Settings = []Setting{
	{Key: "base_url", Env: []string{"EMER_BASE_URL"}, Flag: "--base-url", Default: Default().BaseURL, Type: "url",
		Help: "OpenAI-compatible API root (ends in /v1; a trailing / is dropped)",
		set:  func(c *Config, v string) error { c.BaseURL = llm.NormalizeBaseURL(v); return nil },
		get:  func(c Config) string { return c.BaseURL },
		check: func(c Config) error {
			if c.BaseURL == "" {
				return errors.New("base_url is empty (--base-url or EMER_BASE_URL)")
			}
			return checkURL("base_url", c.BaseURL)
		}},
	{Key: "model", Env: []string{"EMER_MODEL"}, Flag: "--model", Type: "string",
		Help: "model name as the server knows it",
		set:  func(c *Config, v string) error { c.Model = v; return nil },
		get:  func(c Config) string { return c.Model }},
	{Key: "api_key", Env: []string{"EMER_API_KEY", "OPENAI_API_KEY"}, Type: "string",
		Help: "bearer token; empty sends none (local servers)",
		set:  func(c *Config, v string) error { c.APIKey = v; return nil },
		get:  func(c Config) string { return c.APIKey }},
	{Key: "timeout", Env: []string{"EMER_TIMEOUT"}, Flag: "--timeout", Default: Default().Timeout.String(), Type: "duration", kind: kindDuration,
		Help: "limit on one request",
		set: func(c *Config, v string) error {
			d, err := parseDuration(v)
			c.Timeout = Duration(d)
			return err
		},
		get: func(c Config) string { return c.Timeout.String() },
		check: func(c Config) error {
			if c.Timeout < 0 {
				return fmt.Errorf("timeout %v is negative", c.Timeout)
			}
			return nil
		}},
	{Key: "max_attempts", Env: []string{"EMER_MAX_ATTEMPTS"}, Flag: "--max-attempts", Default: strconv.Itoa(Default().MaxAttempts), Type: "int", kind: kindInt,
		Help: "attempts per call (429, 5xx, timeouts, resets)",
		set:  intSetter(func(c *Config) *int { return &c.MaxAttempts }),
		get:  func(c Config) string { return strconv.Itoa(c.MaxAttempts) },
		check: func(c Config) error {
			return atLeast("max_attempts", c.MaxAttempts, 1)
		}},
	{Key: "concurrency", Env: []string{"EMER_CONCURRENCY"}, Flag: "--concurrency", Default: strconv.Itoa(Default().Concurrency), Type: "int", kind: kindInt,
		Help: "requests in flight at once",
		set:  intSetter(func(c *Config) *int { return &c.Concurrency }),
		get:  func(c Config) string { return strconv.Itoa(c.Concurrency) },
		check: func(c Config) error {
			return atLeast("concurrency", c.Concurrency, 1)
		}},
	{Key: "rate", Env: []string{"EMER_RATE"}, Flag: "--rate", Default: "0", Type: "float", kind: kindFloat,
		Help: "most requests started per second; 0 is no limit",
		set: func(c *Config, v string) error {
			var err error
			c.Rate, err = parseFloat(v)
			return err
		},
		get: func(c Config) string { return strconv.FormatFloat(c.Rate, 'g', -1, 64) },
		check: func(c Config) error {
			if !(c.Rate >= 0) || math.IsInf(c.Rate, 0) {
				return fmt.Errorf("rate %v is not a number of requests per second, 0 or more", c.Rate)
			}
			return nil
		}},
	{Key: "max_tokens", Env: []string{"EMER_MAX_TOKENS"}, Flag: "--max-tokens", Default: "0", Type: "int", kind: kindInt,
		Help: "reply length limit; 0 is the server's default",
		set:  intSetter(func(c *Config) *int { return &c.MaxTokens }),
		get:  func(c Config) string { return strconv.Itoa(c.MaxTokens) },
		check: func(c Config) error {
			return atLeast("max_tokens", c.MaxTokens, 0)
		}},
	{Key: "max_reply_bytes", Env: []string{"EMER_MAX_REPLY_BYTES"}, Default: Default().MaxReplyBytes.String(), Type: "size", kind: kindSize,
		Help: "most bytes read of one reply (e.g. 8MiB, 512KiB); a longer one fails, its first 4 KiB kept",
		set: func(c *Config, v string) error {
			var err error
			c.MaxReplyBytes, err = ParseBytes(v)
			return err
		},
		get: func(c Config) string { return c.MaxReplyBytes.String() },
		check: func(c Config) error {
			if c.MaxReplyBytes < 0 {
				return fmt.Errorf("max_reply_bytes %d is negative", c.MaxReplyBytes)
			}
			return nil
		}},
	{Key: "breaker_failures", Env: []string{"EMER_BREAKER_FAILURES"}, Default: strconv.Itoa(Default().BreakerFailures), Type: "int", kind: kindInt,
		Help: "connection failures in a row (refused, reset, timeout) after which a run stops calling the server",
		set:  intSetter(func(c *Config) *int { return &c.BreakerFailures }),
		get:  func(c Config) string { return strconv.Itoa(c.BreakerFailures) },
		check: func(c Config) error {
			return atLeast("breaker_failures", c.BreakerFailures, 1)
		}},
	{Key: "cache", Env: []string{"EMER_CACHE"}, Flag: "--cache", Default: "DIR/emer.db", Type: "path",
		Help: "SQLite file of cached replies (a path or sqlite:PATH), the store unless set; share it between runs",
		set: func(c *Config, v string) error {
			s, err := ParseStore(v)
			if err != nil {
				return fmt.Errorf("cache: %w", err)
			}
			if s.Driver == DriverPostgres {
				return errors.New("cache: store: a PostgreSQL store keeps its own cache; give it as --store, and an SQLite file here")
			}
			c.Cache = s.Path
			return nil
		},
		get: func(c Config) string { return c.Cache }},
	{Key: "store", Env: []string{"EMER_STORE"}, Flag: "--store", Default: "DIR/emer.db", Type: "path",
		Help: "database of results: an SQLite file (a path or sqlite:PATH), or postgres://USER@HOST/DB shared by emer worker processes",
		set: func(c *Config, v string) error {
			var err error
			c.Store, err = ParseStore(v)
			return err
		},
		get: func(c Config) string { return c.Store.String() }},
	{Key: "caption_model", Env: []string{"EMER_CAPTION_MODEL"}, Flag: "--caption-model", Default: "the model", Type: "string",
		Help: "model that describes the clip's frames, on the server at base_url",
		set:  func(c *Config, v string) error { c.CaptionModel = v; return nil },
		get:  func(c Config) string { return c.CaptionModel }},
	{Key: "asr_url", Env: []string{"EMER_ASR_URL"}, Flag: "--asr-url", Type: "url",
		Help: "OpenAI-compatible speech-to-text API root (posts to /audio/transcriptions; api_key is sent); empty: none",
		set:  func(c *Config, v string) error { c.ASRURL = llm.NormalizeBaseURL(v); return nil },
		get:  func(c Config) string { return c.ASRURL },
		check: func(c Config) error {
			if c.ASRURL == "" {
				return nil
			}
			return checkURL("asr_url", c.ASRURL)
		}},
	{Key: "asr_model", Env: []string{"EMER_ASR_MODEL"}, Flag: "--asr-model", Type: "string",
		Help: "speech-to-text model name, needed with asr_url",
		set:  func(c *Config, v string) error { c.ASRModel = v; return nil },
		get:  func(c Config) string { return c.ASRModel },
		check: func(c Config) error {
			if c.ASRURL != "" && c.ASRModel == "" {
				return fmt.Errorf("asr_model is empty: the speech-to-text server at %s needs a model name (--asr-model or EMER_ASR_MODEL)", c.ASRURL)
			}
			return nil
		}},
	{Key: "models", Env: []string{EnvModels}, Flag: "--models", Default: "USER_CACHE/emer/models", Type: "path",
		Help: "folder of the offline perception's model files (emer models install); USER_CACHE is $XDG_CACHE_HOME or ~/.cache",
		set:  func(c *Config, v string) error { c.Models = v; return nil },
		get:  func(c Config) string { return c.Models }},
	{Key: "wheels", Env: []string{EnvWheels}, Flag: "--wheels", Type: "path",
		Help: "emotion-wheel folder (format.csv, synonym.xlsx, wheel1..5.xlsx) or wheel_mapping.npz",
		set:  func(c *Config, v string) error { c.Wheels = v; return nil },
		get:  func(c Config) string { return c.Wheels }},
	{Key: "admin_token", Env: []string{"EMER_ADMIN_TOKEN"}, Default: "new at each start", Type: "string",
		Help: "token of emer serve's organizer pages, 16 characters or more; keep it secret",
		set:  func(c *Config, v string) error { c.AdminToken = strings.TrimSpace(v); return nil },
		get:  func(c Config) string { return c.AdminToken },
		check: func(c Config) error {
			if n := len(c.AdminToken); n > 0 && n < 16 {
				return fmt.Errorf("admin_token has %d characters: want 16 or more", n)
			}
			return nil
		}},
}

// OtherEnv lists the environment variables that the Go standard library
// reads on emer's behalf, and what for. The programs emer runs (ffmpeg,
// npm) inherit the whole environment.
var OtherEnv = []struct{ Env, For string }{
	{"HTTPS_PROXY, HTTP_PROXY, NO_PROXY", "requests to model servers go through the proxy they name"},
	{"XDG_CACHE_HOME, HOME", "the default models folder"},
	{"PATH", "finding ffmpeg, ffprobe and npm"},
	{"TMPDIR", "the scratch folder of emer models install"},
}

// lookup returns the setting called key.
func lookup(key string) (*Setting, bool) {
	for i := range Settings {
		if Settings[i].Key == key {
			return &Settings[i], true
		}
	}
	return nil, false
}

// Load returns the defaults overlaid with the config file at path (or the
// one named by EMER_CONFIG when path is empty; none when both are empty)
// and then with the environment, read through getenv, for the ChatKeys
// settings. It does not validate: see Validate.
//
// Deprecated: commands use Bind, which adds the flags and validates.
func Load(path string, getenv func(string) (string, bool)) (Config, error) {
	if path == "" {
		path, _ = getenv(ConfigEnv)
	}
	r := resolver{settings: settingsOf(ChatKeys), getenv: getenv}
	c, _, err := r.resolve(path)
	return c, err
}

// Validate reports every invalid setting of c, and a missing model.
func (c Config) Validate() error {
	var errs []error
	for _, s := range Settings {
		if s.check != nil {
			if err := s.check(c); err != nil {
				errs = append(errs, err)
			}
		}
		if s.Key == "model" && c.Model == "" {
			errs = append(errs, emptyError(&s))
		}
	}
	return errors.Join(errs...)
}

// emptyError says that a required setting is empty and where to set it.
func emptyError(s *Setting) error {
	var where []string
	if s.Flag != "" {
		where = append(where, s.Flag)
	}
	where = append(where, s.Env...)
	return fmt.Errorf("%s is empty (%s)", s.Key, strings.Join(where, " or "))
}

// WriteHelp writes the table of the ChatKeys settings.
//
// Deprecated: commands use Binding.Help, which lists the settings they bind.
func WriteHelp(w io.Writer) { writeHelp(w, settingsOf(ChatKeys), nil, nil) }

// writeHelp writes the table of the given settings, marking the required
// ones.
func writeHelp(w io.Writer, settings []*Setting, required map[string]bool, shown map[string]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  file key\tenvironment\tflag\tdefault\tmeaning")
	for _, s := range settings {
		flag := s.Flag
		if flag == "" {
			flag = "-"
		}
		def := s.Default
		if text, ok := shown[s.Key]; ok {
			def = text
		}
		switch {
		case required[s.Key]:
			def = "(required)"
		case def == "":
			def = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", s.Key, strings.Join(s.Env, ", "), flag, def, s.Help)
	}
	fmt.Fprintf(tw, "  (file)\t%s\t--config\t-\tJSON file with the keys above\n", ConfigEnv)
	tw.Flush()
}

// settingsOf returns the settings called keys, in the order of Settings.
// It panics on a key that names none: a mistake in the program.
func settingsOf(keys []string) []*Setting {
	want := map[string]bool{}
	for _, k := range keys {
		if _, ok := lookup(k); !ok {
			panic(fmt.Sprintf("config: no setting %q", k))
		}
		want[k] = true
	}
	var out []*Setting
	for i := range Settings {
		if want[Settings[i].Key] {
			out = append(out, &Settings[i])
		}
	}
	return out
}

// checkURL reports a base URL that is not an absolute http(s) URL.
func checkURL(key, v string) error {
	u, err := url.Parse(llm.NormalizeBaseURL(v))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s %s is not an http(s) URL", key, excerpt(v))
	}
	return nil
}

func atLeast(key string, v, lo int) error {
	if v >= lo {
		return nil
	}
	if lo == 0 {
		return fmt.Errorf("%s %d is negative", key, v)
	}
	return fmt.Errorf("%s %d is below %d", key, v, lo)
}

func intSetter(field func(c *Config) *int) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("want a whole number, got %s", excerpt(v))
		}
		*field(c) = n
		return nil
	}
}

// parseFloat reads a finite number.
func parseFloat(v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("want a number, got %s", excerpt(v))
	}
	return f, nil
}

// parseDuration reads a duration such as 90s or 2m30s.
func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("want a duration such as 90s or 2m, got %s", excerpt(v))
	}
	return d, nil
}

// excerpt quotes at most the first 40 characters of v.
func excerpt(v string) string {
	const n = 40
	r := []rune(v)
	if len(r) <= n {
		return strconv.Quote(v)
	}
	return strconv.Quote(string(r[:n])) + "…"
}

// Duration is a time.Duration written as text ("90s") in JSON.
type Duration time.Duration

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "90s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := parseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	v, ok := seconds(b)
	if !ok {
		return fmt.Errorf("want a duration such as \"90s\" or a number of seconds, got %.40s", b)
	}
	*d = Duration(v)
	return nil
}

// seconds reads a JSON number of seconds that a time.Duration can hold.
func seconds(raw []byte) (time.Duration, bool) {
	secs, err := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
	ns := secs * float64(time.Second)
	if err != nil || math.IsNaN(ns) || ns >= math.MaxInt64 || ns < math.MinInt64 {
		return 0, false
	}
	return time.Duration(ns), true
}

// Bytes is a size in bytes, written as a number or with a binary unit:
// 8388608, "8MiB", "512 KiB".
type Bytes int64

// byteUnits are the units Bytes reads and writes, largest first.
var byteUnits = []struct {
	name string
	size int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// String writes b in the largest unit that divides it ("8MiB"), or as a
// plain number.
func (b Bytes) String() string {
	for _, u := range byteUnits[:3] {
		if b != 0 && int64(b)%u.size == 0 {
			return strconv.FormatInt(int64(b)/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// ParseBytes reads a number of bytes with an optional unit B, KiB, MiB or
// GiB (any case, a space allowed before it).
func ParseBytes(s string) (Bytes, error) {
	t := strings.TrimSpace(s)
	num, mult := t, int64(1)
	for _, u := range byteUnits {
		if len(t) > len(u.name) && strings.EqualFold(t[len(t)-len(u.name):], u.name) {
			num, mult = strings.TrimSpace(t[:len(t)-len(u.name)]), u.size
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/mult || n < math.MinInt64/mult {
		return 0, fmt.Errorf("size %s: want a number of bytes, optionally with KiB, MiB or GiB (8MiB)", excerpt(s))
	}
	return Bytes(n * mult), nil
}

// MarshalJSON writes b as a number.
func (b Bytes) MarshalJSON() ([]byte, error) { return json.Marshal(int64(b)) }

// UnmarshalJSON reads a number of bytes or a string ParseBytes reads.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	var n int64
	if err := json.Unmarshal(data, &n); err == nil {
		*b = Bytes(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("size: want a number of bytes or a string such as \"8MiB\", got %.40s", data)
	}
	v, err := ParseBytes(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}
