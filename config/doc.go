// Package config owns dbfence's configuration file: its model, defaults and
// validation. Every field is documented here and in configs/dbfence.example.yaml.
// Decoding is strict: unknown keys and malformed values are errors that name
// the file and line. The policy and audit sections are decoded by their own
// packages (rules, audit) from the YAML nodes kept here, so each package owns
// its model while the file stays one document.
package config
