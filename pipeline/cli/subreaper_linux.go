package cli

import "syscall"

// becomeSubreaper makes processes orphaned under us (the grandchildren of
// `prstate run`) our children instead of init's, so that we see and reap
// them while we wait for the command's whole process group to end.
func becomeSubreaper() {
	const prSetChildSubreaper = 36
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
}

// dieWithUs has the kernel kill the command should prstate itself die
// (SIGKILL, a crash): without us nobody renews the lock it runs under.
func dieWithUs(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
