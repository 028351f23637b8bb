package netlab

import "syscall"

// supported reports nil: Linux has network namespaces.
func supported() error { return nil }

// sysProcAttr has the kernel kill a process started in a host when the test
// process dies, so that an aborted test leaves nothing running. (Strictly,
// when the OS thread that started it ends; the Go runtime ends threads only
// when a goroutine exits while locked to one.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
