//go:build !linux

package netlab

import (
	"errors"
	"runtime"
	"syscall"
)

// supported reports that network namespaces are Linux only, so that New and
// Require skip.
func supported() error {
	return errors.New("network namespaces are not supported on " + runtime.GOOS)
}

func sysProcAttr() *syscall.SysProcAttr { return nil }
