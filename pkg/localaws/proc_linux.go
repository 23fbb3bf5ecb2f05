package localaws

import "syscall"

// processAttributes puts moto in its own process group (so Stop ends its children too) and has the kernel kill it
// if this process dies without calling Stop, so no moto outlives a crashed test.
func processAttributes() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
