package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// ProcessEnv reads a variable of the process's environment. It is the one
// function of emer that does: a command passes it to Binding.Resolve, and
// FromEnv and ModelsDir use it, so that every variable read is a setting's
// (see Settings).
func ProcessEnv(name string) (string, bool) { return os.LookupEnv(name) }

// FromEnv returns the value of the setting called key in the process's
// environment: its first variable set and not empty, or "". It is for
// commands that take the setting from a flag of their own and the
// environment only; it panics on a key that names no setting.
func FromEnv(key string) string {
	s, ok := lookup(key)
	if !ok {
		panic(fmt.Sprintf("config: no setting %q", key))
	}
	for _, env := range s.Env {
		if v, ok := ProcessEnv(env); ok && v != "" {
			return v
		}
	}
	return ""
}

// ModelsDir returns the models folder: $EMER_MODELS when set, otherwise
// the default one (DefaultModelsDir).
func ModelsDir() (string, error) {
	if d := FromEnv("models"); d != "" {
		return d, nil
	}
	return DefaultModelsDir()
}

// DefaultModelsDir returns emer/models under the user's cache folder
// ($XDG_CACHE_HOME or ~/.cache on Linux).
func DefaultModelsDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("models: no cache directory (set %s): %w", EnvModels, err)
	}
	return filepath.Join(cache, "emer", "models"), nil
}
