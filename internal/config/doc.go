// Package config is the one place that lists emer's settings (model
// servers, the store and cache, the models and emotion-wheel folders, the
// models of emer infer) and the one place that reads the environment:
// each setting's config-file key, environment variables, flag, default
// and help are in Settings. A command binds the settings it uses to its
// flags with Bind and resolves them with Binding.Resolve; later sources
// win: defaults, the config file (JSON, unknown keys are errors),
// environment variables, flags.
package config
