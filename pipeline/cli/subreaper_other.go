//go:build !linux

package cli

import "time"

// becomeSubreaper: only Linux has child subreapers; elsewhere orphaned
// processes are reaped by init and may outlive the guardian.
func becomeSubreaper() {}

// descendants: without /proc the guardian only knows its direct child.
func descendants(int) []int { return nil }

// monoNow: the wall clock, for systems prstate is not released for.
func monoNow() int64 { return time.Now().UnixNano() }
