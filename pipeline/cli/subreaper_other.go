//go:build !linux

package cli

// becomeSubreaper: only Linux has child subreapers; elsewhere orphaned
// processes of the group are reaped by init.
func becomeSubreaper() {}
