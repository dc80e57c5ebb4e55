//go:build !linux

package cli

import "syscall"

// becomeSubreaper: only Linux has child subreapers; elsewhere orphaned
// processes of the group are reaped by init.
func becomeSubreaper() {}

// dieWithUs: only Linux kills a child when its parent dies.
func dieWithUs(*syscall.SysProcAttr) {}
