package lean

import (
	"syscall"
	"unsafe"
)

// stdinArea is where stdin goes, up to 1 MiB: a static buffer costs no
// allocation, and only the pages a payload fills are ever touched, so a
// 1 KiB event costs one page while a 256 KiB one is read in place. A
// larger payload moves to the heap.
var stdinArea [firstGrowth]byte

// discardArea is discardRest's scratch space (static: a 16 KiB array on
// the stack would make the goroutine's stack grow).
var discardArea [16 << 10]byte

// input is what the hook found on stdin (hook's input).
type input struct {
	// data is the JSON object's bytes when complete, else everything read.
	data []byte
	// complete is true when data is one whole JSON object (structurally).
	complete bool
}

// readStdin is internal/hook's readStdin: it reads fd until one JSON object
// has ended, fd ends, the input is not a JSON object, or timeout passes,
// whichever comes first, with poll(2) bounding each wait.
func readStdin(fd int, timeout int64) input {
	buf := stdinArea[:0]
	sc := NewScanner()
	deadline := nanotime() + timeout
	grown := false
	for {
		if err := wait(fd, pollIn, deadline); err != nil {
			return collected(buf, &sc)
		}
		if cap(buf)-len(buf) < 16<<10 {
			nb := make([]byte, len(buf), max(2*cap(buf), firstGrowth))
			copy(nb, buf)
			buf = nb
		}
		p := buf[len(buf):cap(buf)]
		if left := maxInput - len(buf); len(p) > left {
			p = p[:left]
		}
		n, err := syscall.Read(fd, p)
		if err == syscall.EAGAIN || err == syscall.EINTR {
			continue
		}
		if n > 0 {
			buf = buf[:len(buf)+n]
			if sc.Feed(buf[len(buf)-n:]) != ScanMore || len(buf) >= maxInput {
				return collected(buf, &sc)
			}
			if !grown && n >= growPipeAfter {
				// A large payload: let the writer put the rest in the
				// pipe at once, instead of 64 KiB per turn.
				grown = true
				growPipe(fd)
			}
		}
		if err != nil || n <= 0 {
			return collected(buf, &sc)
		}
	}
}

// growPipeAfter is the first read's size from which readStdin enlarges
// the pipe: a payload that did not fit in the first quarter of the pipe's
// default 64 KiB. A 1 KiB event never asks.
const growPipeAfter = 16 << 10

// pipeSize is what growPipe asks for: /proc/sys/fs/pipe-max-size's
// default, the most an unprivileged process may set.
const pipeSize = 1 << 20

// growPipe sets the capacity of the pipe fd reads to pipeSize, best effort:
// with the default 64 KiB a 256 KiB payload crosses it in four turns of
// the writer and the hook, each a wake-up of both (measured: 0.03-0.04x an
// empty program's run at 256 KiB, docs/benchmarks.md). The pages are taken
// only as the writer fills them. It fails harmlessly when fd is not a pipe
// (EBADF) or the user's pipe pages are used up (EPERM).
func growPipe(fd int) {
	syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETPIPE_SZ, pipeSize)
}

// collected is the input read into buf.
func collected(buf []byte, sc *Scanner) input {
	if sc.Status == ScanDone {
		return input{data: buf[sc.Start:sc.End], complete: true}
	}
	return input{data: buf}
}

// discardRest reads and drops what is already waiting on fd after the
// object, so that the writer's last write does not fail with EPIPE, for at
// most timeout; it stops at the first moment nothing is ready.
func discardRest(fd int, timeout int64) {
	buf := discardArea[:]
	deadline := nanotime() + timeout
	full := false
	for total := 0; total < maxInput && nanotime() < deadline; {
		// After a full read, give the writer a moment to refill the pipe.
		ms := 0
		if full {
			ms = 1
		}
		fds := [1]pollFd{{fd: int32(fd), events: pollIn}}
		if n, err := poll(fds[:], ms); err == syscall.EINTR {
			continue
		} else if err != nil || n == 0 || fds[0].revents&pollIn == 0 {
			return
		}
		n, err := syscall.Read(fd, buf)
		if err == syscall.EINTR || err == syscall.EAGAIN {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		total += n
		full = n == len(buf)
	}
}

const (
	pollIn  = 0x1
	pollOut = 0x4
)

// pollFd is struct pollfd.
type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

func poll(fds []pollFd, ms int) (int, error) {
	n, _, e := syscall.Syscall(syscall.SYS_POLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(ms))
	if e != 0 {
		return int(n), e
	}
	return int(n), nil
}

// errTimeout is hook's: the daemon did not answer within the bound.
const errTimeout = errString("daemon did not answer in time")

// wait polls fd for events until deadline (nanotime).
func wait(fd int, events int16, deadline int64) error {
	for {
		ms := int((deadline - nanotime()) / millisecond)
		if ms <= 0 {
			return errTimeout
		}
		fds := [1]pollFd{{fd: int32(fd), events: events}}
		n, err := poll(fds[:], ms)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return nil // ready, or an error the next call reports
		}
	}
}
