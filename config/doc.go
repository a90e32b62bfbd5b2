// Package config is the only package that imports viper. It turns the
// embedded defaults, a YAML file and PHOTOGUARD_* environment variables into
// a typed, validated Config.
//
// Invariant: a Config returned by Load has passed Validate; an unknown key or
// an out-of-range value is an error that names the key, never a silent default.
package config
