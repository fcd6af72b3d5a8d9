package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"emer/internal/llm"
)

// Config holds the model-server settings.
type Config struct {
	BaseURL     string   `json:"base_url"`
	Model       string   `json:"model"`
	APIKey      string   `json:"api_key"`
	Timeout     Duration `json:"timeout"`
	MaxAttempts int      `json:"max_attempts"`
	Concurrency int      `json:"concurrency"`
	Rate        float64  `json:"rate"`
	MaxTokens   int      `json:"max_tokens"`
	Cache       string   `json:"cache"`

	// MaxReplyBytes caps the body read of one reply; 0 means
	// llm.DefaultMaxReplyBytes.
	MaxReplyBytes Bytes `json:"max_reply_bytes"`
}

// Setting describes one setting.
type Setting struct {
	Key     string   // key in the config file
	Env     []string // environment variables, first found wins
	Flag    string   // command-line flag
	Default string
	Help    string
}

// Settings lists every setting. ConfigEnv names the config file.
var Settings = []Setting{
	{Key: "base_url", Env: []string{"EMER_BASE_URL"}, Flag: "--base-url", Default: Default().BaseURL, Help: "OpenAI-compatible API root (ends in /v1; a trailing / is dropped)"},
	{Key: "model", Env: []string{"EMER_MODEL"}, Flag: "--model", Help: "model name as the server knows it"},
	{Key: "api_key", Env: []string{"EMER_API_KEY", "OPENAI_API_KEY"}, Help: "bearer token; empty sends none (local servers)"},
	{Key: "timeout", Env: []string{"EMER_TIMEOUT"}, Flag: "--timeout", Default: Default().Timeout.String(), Help: "limit on one request"},
	{Key: "max_attempts", Env: []string{"EMER_MAX_ATTEMPTS"}, Flag: "--max-attempts", Default: strconv.Itoa(Default().MaxAttempts), Help: "attempts per call (429, 5xx, timeouts, resets)"},
	{Key: "concurrency", Env: []string{"EMER_CONCURRENCY"}, Flag: "--concurrency", Default: strconv.Itoa(Default().Concurrency), Help: "requests in flight at once"},
	{Key: "rate", Env: []string{"EMER_RATE"}, Flag: "--rate", Default: "0", Help: "most requests started per second; 0 is no limit"},
	{Key: "max_tokens", Env: []string{"EMER_MAX_TOKENS"}, Flag: "--max-tokens", Default: "0", Help: "reply length limit; 0 is the server's default"},
	{Key: "cache", Env: []string{"EMER_CACHE"}, Flag: "--cache", Default: "DIR/emer.db", Help: "SQLite file of cached replies; share it between runs"},
	{Key: "max_reply_bytes", Env: []string{"EMER_MAX_REPLY_BYTES"}, Default: Default().MaxReplyBytes.String(), Help: "most bytes read of one reply (e.g. 8MiB, 512KiB); a longer one fails, its first 4 KiB kept"},
}

// ConfigEnv names the environment variable that points at a config file
// (the --config flag wins over it).
const ConfigEnv = "EMER_CONFIG"

// Default returns the settings before any file, variable or flag.
func Default() Config {
	return Config{
		BaseURL:     "http://127.0.0.1:8000/v1",
		Timeout:     Duration(120 * time.Second),
		MaxAttempts: 6,
		Concurrency: 8,

		MaxReplyBytes: llm.DefaultMaxReplyBytes,
	}
}

// Load returns the defaults overlaid with the config file at path (or the
// one named by EMER_CONFIG when path is empty; none when both are empty)
// and then with the environment, read through getenv. The base URL comes
// back normalised (llm.NormalizeBaseURL).
func Load(path string, getenv func(string) (string, bool)) (Config, error) {
	c := Default()
	if path == "" {
		path, _ = getenv(ConfigEnv)
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	var errs []error
	for _, s := range Settings {
		for _, env := range s.Env {
			v, ok := getenv(env)
			if !ok || v == "" {
				continue
			}
			if err := c.set(s.Key, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
			break
		}
	}
	c.BaseURL = llm.NormalizeBaseURL(c.BaseURL)
	return c, errors.Join(errs...)
}

// set assigns one setting from its text form.
func (c *Config) set(key, v string) error {
	var err error
	switch key {
	case "base_url":
		c.BaseURL = v
	case "model":
		c.Model = v
	case "api_key":
		c.APIKey = v
	case "timeout":
		var d time.Duration
		d, err = time.ParseDuration(v)
		c.Timeout = Duration(d)
	case "max_attempts":
		c.MaxAttempts, err = strconv.Atoi(v)
	case "concurrency":
		c.Concurrency, err = strconv.Atoi(v)
	case "rate":
		c.Rate, err = strconv.ParseFloat(v, 64)
	case "max_tokens":
		c.MaxTokens, err = strconv.Atoi(v)
	case "cache":
		c.Cache = v
	case "max_reply_bytes":
		c.MaxReplyBytes, err = ParseBytes(v)
	default:
		return fmt.Errorf("unknown setting %q", key)
	}
	return err
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs []error
	if c.BaseURL == "" {
		errs = append(errs, errors.New("base_url is empty (--base-url or EMER_BASE_URL)"))
	} else if u, err := url.Parse(llm.NormalizeBaseURL(c.BaseURL)); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("base_url %q is not an http(s) URL", c.BaseURL))
	}
	if c.Model == "" {
		errs = append(errs, errors.New("model is empty (--model or EMER_MODEL)"))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v is negative", c.Timeout))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("max_attempts %d is below 1", c.MaxAttempts))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("concurrency %d is below 1", c.Concurrency))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("rate %v is negative", c.Rate))
	}
	if c.MaxTokens < 0 {
		errs = append(errs, fmt.Errorf("max_tokens %d is negative", c.MaxTokens))
	}
	if c.MaxReplyBytes < 0 {
		errs = append(errs, fmt.Errorf("max_reply_bytes %d is negative", c.MaxReplyBytes))
	}
	return errors.Join(errs...)
}

// WriteHelp writes the table of settings.
func WriteHelp(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  file key\tenvironment\tflag\tdefault\tmeaning")
	for _, s := range Settings {
		flag := s.Flag
		if flag == "" {
			flag = "-"
		}
		def := s.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", s.Key, strings.Join(s.Env, ", "), flag, def, s.Help)
	}
	fmt.Fprintf(tw, "  (file)\t%s\t--config\t-\tJSON file with the keys above\n", ConfigEnv)
	tw.Flush()
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
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration: want \"90s\" or seconds, got %s", b)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
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
		return 0, fmt.Errorf("size %q: want a number of bytes, optionally with KiB, MiB or GiB (8MiB)", s)
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
