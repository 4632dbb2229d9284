package procinfo

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// ListenInodes parses the text of /proc/net/tcp or /proc/net/tcp6 and
// returns the socket inodes of sockets in LISTEN state on port, any local
// address. Lines it does not understand are skipped.
func ListenInodes(procNetTCP []byte, port uint16) []uint64 {
	var out []uint64
	sc := bufio.NewScanner(bytes.NewReader(procNetTCP))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
		if len(f) < 10 || !strings.HasSuffix(f[0], ":") {
			continue
		}
		if f[3] != "0A" { // TCP_LISTEN
			continue
		}
		i := strings.LastIndexByte(f[1], ':')
		if i < 0 {
			continue
		}
		p, err := strconv.ParseUint(f[1][i+1:], 16, 16)
		if err != nil || uint16(p) != port {
			continue
		}
		ino, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil || ino == 0 {
			continue
		}
		out = append(out, ino)
	}
	return out
}
