package hook

import (
	"io"
	"sync"
	"time"

	"github.com/mpm-dev/mpm/internal/hook/lean"
)

// MaxInput is the most of stdin the hook keeps. A larger payload is
// forwarded cut at this size, so that the daemon refuses it (413) and counts
// it; the rest is still read, so that Claude Code's write does not fail.
const MaxInput = lean.MaxInput

// input is what the hook found on stdin.
type input struct {
	// data is the JSON object's bytes when complete, else everything read
	// before the value was found bad, stdin ended, or the deadline passed.
	data []byte
	// complete is true when data is one whole JSON object (structurally:
	// the daemon checks it fully).
	complete bool
	// timedOut is true when the deadline passed first.
	timedOut bool
}

// collector gathers stdin's bytes and follows the object's structure as
// they arrive; both readers (the file-descriptor one on unix, the goroutine
// one for any io.Reader) fill it.
type collector struct {
	// buf holds what was read; reads go into its spare capacity.
	buf []byte
	// sc finds the object's end.
	sc lean.Scanner
}

func newCollector(buf []byte) collector { return collector{buf: buf[:0], sc: lean.NewScanner()} }

// firstGrowth is the capacity the buffer jumps to when the first 64 KiB do
// not hold the payload (readInput), and the size of mpm-hook's static stdin
// buffer (readStdin): memory the process never touches costs nothing, a
// copy and the page faults of each doubling do. It stays well under the 4
// MiB heap at which the runtime starts its first garbage collection (its
// worker threads would cost more than the copies saved).
const firstGrowth = lean.FirstGrowth

// room returns where the next read goes: the spare capacity, grown when
// less than 16 KiB is left, and never past MaxInput.
func (c *collector) room() []byte {
	if cap(c.buf)-len(c.buf) < 16<<10 {
		nb := make([]byte, len(c.buf), max(2*cap(c.buf), firstGrowth))
		copy(nb, c.buf)
		c.buf = nb
	}
	p := c.buf[len(c.buf):cap(c.buf)]
	if left := MaxInput - len(c.buf); len(p) > left {
		p = p[:left]
	}
	return p
}

// add takes the n bytes just read into room() and reports whether reading
// for the object is over: it ended, it cannot be an object, or MaxInput is
// reached.
func (c *collector) add(n int) bool {
	if n <= 0 {
		return false
	}
	c.buf = c.buf[:len(c.buf)+n]
	return c.sc.Feed(c.buf[len(c.buf)-n:]) != lean.ScanMore || len(c.buf) >= MaxInput
}

// result is what was collected; timedOut says the deadline passed first.
func (c *collector) result(timedOut bool) input {
	if c.sc.Status == lean.ScanDone {
		return input{data: c.buf[c.sc.Start:c.sc.End], complete: true}
	}
	return input{data: c.buf, timedOut: timedOut}
}

// readInput reads r until one JSON object has ended, r ends, the input is
// not a JSON object, or timeout passes, whichever comes first. It never
// waits for EOF after the object: Claude Code may never close stdin. A
// goroutine does the reading (an io.Reader has no deadline) and keeps
// reading and discarding whatever follows while the caller goes on, so a
// writer that sends a trailing newline or more does not get EPIPE; it dies
// with the process. On unix, mpm-hook reads its stdin with readStdin
// instead, which needs no goroutine.
func readInput(r io.Reader, timeout time.Duration) input {
	st := &inputState{c: newCollector(make([]byte, 0, 64<<10)), done: make(chan struct{})}
	go st.run(r)
	t := time.NewTimer(timeout)
	defer t.Stop()
	timedOut := false
	select {
	case <-st.done:
	case <-t.C:
		timedOut = true
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.abandoned = true
	in := st.c.result(timedOut && !st.finished)
	if !in.complete && !st.finished {
		// The reader keeps filling buf[len:cap]; data must not see it.
		in.data = append([]byte(nil), in.data...)
	}
	return in
}

type inputState struct {
	mu sync.Mutex
	// c is what was read; the reader goroutine reads into its spare
	// capacity outside the lock and adds the bytes under the lock.
	c collector
	// finished is set (and done closed) when the reader stops collecting.
	finished bool
	// abandoned is set when readInput returned; the reader then only
	// discards.
	abandoned bool
	done      chan struct{}
}

func (st *inputState) run(r io.Reader) {
	defer func() { recover() }() // a panic here must not print or change the exit code
	collecting := true
	var discard []byte
	for {
		var p []byte
		st.mu.Lock()
		if st.abandoned {
			collecting = false
		}
		if collecting {
			p = st.c.room()
		}
		st.mu.Unlock()
		if !collecting {
			if discard == nil {
				discard = make([]byte, 64<<10)
			}
			p = discard
		}
		n, err := r.Read(p)
		if collecting {
			st.mu.Lock()
			if !st.abandoned {
				if st.c.add(n) || err != nil {
					st.finished = true
					collecting = false
					close(st.done)
				}
			} else {
				collecting = false
			}
			st.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}
