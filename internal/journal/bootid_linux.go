package journal

import (
	"os"
	"strings"
)

// bootID identifies the running OS boot ("" when unknown): it changes when
// the machine restarts.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
