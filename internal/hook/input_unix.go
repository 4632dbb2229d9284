//go:build unix

package hook

import (
	"time"

	"golang.org/x/sys/unix"
)

// stdinArea is where stdin goes, up to 1 MiB: a static buffer costs no
// allocation, and only the pages a payload fills are ever touched (it is
// zero-filled memory the kernel maps on first use), so a 1 KiB event costs
// one page as before while a 256 KiB one is read in place, with no 64 KiB
// copy into a heap buffer and no 1 MiB allocation. A larger payload moves
// to the heap (collector.room).
var stdinArea [firstGrowth]byte

// discardArea is discardRest's scratch space: static, as a 16 KiB array on
// the stack would make the goroutine's stack grow (a copy and fresh pages).
var discardArea [16 << 10]byte

// readStdin is readInput for a file descriptor, on the calling goroutine:
// poll(2) bounds each wait, so no reader goroutine, timer or extra thread is
// needed (each costs start-up time). Call discardRest before exiting.
func readStdin(fd int, timeout time.Duration) input {
	c := newCollector(stdinArea[:])
	deadline := time.Now().Add(timeout)
	for {
		if err := wait(fd, unix.POLLIN, deadline); err != nil {
			return c.result(err == errTimeout)
		}
		n, err := unix.Read(fd, c.room())
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		if c.add(n) || err != nil || n == 0 {
			return c.result(false)
		}
	}
}

// discardRest reads and drops what is already waiting on fd after the
// object (a trailing newline, or more), so that the writer's last write does
// not fail with EPIPE, for at most timeout. It stops at the first moment
// nothing is ready: stdin may stay open with nothing more to come.
func discardRest(fd int, timeout time.Duration) {
	buf := discardArea[:]
	deadline := time.Now().Add(timeout)
	full := false
	for total := 0; total < MaxInput && time.Now().Before(deadline); {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		// After a full read, give the writer a moment to refill the pipe.
		ms := 0
		if full {
			ms = 1
		}
		if n, err := unix.Poll(fds, ms); err == unix.EINTR {
			continue
		} else if err != nil || n == 0 || fds[0].Revents&unix.POLLIN == 0 {
			return
		}
		n, err := unix.Read(fd, buf[:])
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		total += n
		full = n == len(buf)
	}
}
