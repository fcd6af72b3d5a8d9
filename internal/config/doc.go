// Package config is the one place that lists emer's settings for model
// servers: each setting's config-file key, environment variable, flag and
// default. Settings apply in this order, later winning: defaults, the config
// file (JSON, unknown keys are errors), environment variables, flags.
package config
