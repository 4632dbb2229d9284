//go:build unix

package wsd

import "syscall"

// raiseFileLimit raises the soft limit on open files to the hard limit
// (where the system allows it) and returns the soft limit then in force;
// 0 when it cannot be read. Connections are file descriptors: a daemon
// left at a soft limit of 256 or 1024 runs out long before --max-conns.
func raiseFileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < lim.Max {
		want := lim
		want.Cur = lim.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) != nil {
			// macOS refuses more than kern.maxfilesperproc even under an
			// unlimited hard limit; its usual value is 10240.
			want.Cur = min(lim.Max, 10240)
			if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) != nil {
				return uint64(lim.Cur)
			}
		}
		lim = want
	}
	return uint64(lim.Cur)
}
