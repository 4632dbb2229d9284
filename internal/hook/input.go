package hook

import (
	"io"
	"sync"
	"time"
)

// MaxInput is the most of stdin the hook keeps. A larger payload is
// forwarded cut at this size, so that the daemon refuses it (413) and counts
// it; the rest is still read, so that Claude Code's write does not fail.
const MaxInput = 32 << 20

// input is what readInput found on stdin.
type input struct {
	// data is the JSON object's bytes when complete, else everything read
	// before the value was found bad, stdin ended, or the deadline passed.
	data []byte
	// complete is true when data is one whole JSON object (structurally:
	// validObject checks it fully).
	complete bool
	// timedOut is true when the deadline passed first.
	timedOut bool
}

// readInput reads stdin until one JSON object has ended, stdin ends, the
// input is not a JSON object, or timeout passes, whichever comes first. It
// never waits for EOF after the object: Claude Code may never close stdin. A
// goroutine keeps reading (and discarding) whatever follows while the caller
// goes on, so a writer that sends a trailing newline or more does not get
// EPIPE; it dies with the process.
func readInput(r io.Reader, timeout time.Duration) input {
	st := &inputState{buf: make([]byte, 0, 64<<10), sc: newScanner(), done: make(chan struct{})}
	go st.run(r)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-st.done:
	case <-t.C:
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	in := input{data: st.buf}
	switch {
	case st.sc.status == scanDone:
		in.data = st.buf[st.sc.start:st.sc.end]
		in.complete = true
	case !st.finished:
		in.timedOut = true
		// The reader keeps filling buf[len:cap]; data must not see it.
		in.data = append([]byte(nil), st.buf...)
	}
	st.abandoned = true
	return in
}

type inputState struct {
	mu sync.Mutex
	// buf holds what was read; the reader goroutine reads into its spare
	// capacity outside the lock and extends it under the lock.
	buf []byte
	sc  scanner
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
		if collecting && st.abandoned {
			collecting = false
		}
		if collecting {
			if cap(st.buf)-len(st.buf) < 16<<10 {
				nb := make([]byte, len(st.buf), 2*cap(st.buf))
				copy(nb, st.buf)
				st.buf = nb
			}
			p = st.buf[len(st.buf):cap(st.buf)]
			if room := MaxInput - len(st.buf); len(p) > room {
				p = p[:room]
			}
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
				st.buf = st.buf[:len(st.buf)+n]
				status := st.sc.feed(st.buf[len(st.buf)-n:])
				if status != scanMore || err != nil || len(st.buf) >= MaxInput {
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
