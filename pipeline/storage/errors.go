package storage

import "errors"

// Error is a storage failure in words people can act on, classified at
// the storage boundary. A permanent one (a missing bucket or table,
// denied access, rejected credentials, a table of the wrong shape) does
// not go away by retrying: commands end at once with exit 2. A transient
// one (5xx, throttling, timeouts, refused connections) is retried within
// the command's deadline. Raw keeps the SDK's own error, with its request
// IDs, for --debug.
type Error struct {
	Msg       string
	Permanent bool
	Raw       error
	Sentinel  error // ErrNotFound, ErrPrecondition or nil
}

func (e *Error) Error() string { return e.Msg }

// Unwrap lets errors.Is find the sentinel and errors.As the SDK's error.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Sentinel != nil {
		out = append(out, e.Sentinel)
	}
	if e.Raw != nil {
		out = append(out, e.Raw)
	}
	return out
}

// ExitCode is 2 for a permanent error (configuration), 1 otherwise.
func (e *Error) ExitCode() int {
	if e.Permanent {
		return 2
	}
	return 1
}

// IsPermanent tells whether err is, or wraps, a permanent storage error.
func IsPermanent(err error) bool {
	var se *Error
	return errors.As(err, &se) && se.Permanent
}

// RawDetail is the SDK's own text of the storage error in err ("" when
// there is none): what --debug shows.
func RawDetail(err error) string {
	var se *Error
	if errors.As(err, &se) && se.Raw != nil {
		return se.Raw.Error()
	}
	return ""
}
