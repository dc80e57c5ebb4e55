// Package usage holds the usage error: bad input or configuration, which
// the CLI maps to exit code 2. Domain packages return it; see ARCHITECTURE.md.
package usage

import "fmt"

// Error is bad input or configuration: exit 2, nothing written.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Errorf formats an Error.
func Errorf(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}
