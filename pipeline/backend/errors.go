package backend

import "fmt"

// ConfigError is bad input or configuration found while resolving the
// backend: the command exits 2 and writes nothing.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// ExitCode is 2: bad input or configuration.
func (e *ConfigError) ExitCode() int { return 2 }

func configErrorf(format string, args ...any) error {
	return &ConfigError{Msg: fmt.Sprintf(format, args...)}
}

// SettingHint names the prstate setting that takes what users pass to
// `terraform init -backend-config`, in all three of its spellings.
const SettingHint = "backend-config (input backend-config, --backend-config, PRSTATE_BACKEND_CONFIG)"
