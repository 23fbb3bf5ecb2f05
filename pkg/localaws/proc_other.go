//go:build !linux

package localaws

import "syscall"

// processAttributes puts moto in its own process group, so Stop ends its children too.
func processAttributes() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
