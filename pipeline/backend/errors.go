package backend

import "github.com/prstate/prstate/pipeline/usage"

// configErrorf is bad input or configuration found while resolving the
// backend: a *usage.Error, so the command exits 2 and writes nothing.
func configErrorf(format string, args ...any) error { return usage.Errorf(format, args...) }

// SettingHint names the prstate setting that takes what users pass to
// `terraform init -backend-config`, in all three of its spellings.
const SettingHint = "backend-config (input backend-config, --backend-config, PRSTATE_BACKEND_CONFIG)"
