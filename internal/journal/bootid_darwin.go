package journal

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// bootID identifies the running OS boot ("" when unknown): the kernel's
// boot time, which changes when the machine restarts.
func bootID() string {
	tv, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d.%06d", tv.Sec, tv.Usec)
}
