package procinfo

import (
	"net"
	"os"
	"strconv"
)

// PortOwner returns the pid of a process listening on addr's TCP port, best
// effort: it reads /proc/net/tcp{,6} for the listening socket's inode and
// then looks for that socket among /proc/*/fd. It returns 0 when the owner
// cannot be seen (another user's process, another network namespace).
func PortOwner(addr string) (int, error) {
	_, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	p, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return 0, err
	}
	want := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, ino := range ListenInodes(b, uint16(p)) {
			want["socket:["+strconv.FormatUint(ino, 10)+"]"] = true
		}
	}
	if len(want) == 0 {
		return 0, nil
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, d := range procs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		fdDir := "/proc/" + d.Name() + "/fd"
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if l, err := os.Readlink(fdDir + "/" + fd.Name()); err == nil && want[l] {
				return pid, nil
			}
		}
	}
	return 0, nil
}
