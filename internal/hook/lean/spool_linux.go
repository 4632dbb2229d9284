package lean

import (
	"syscall"
	"unsafe"

	"github.com/mpm-dev/mpm/internal/spool/crc32c"
	"github.com/mpm-dev/mpm/internal/spool/recscan"
)

// The spool's writer side, as internal/spool's AppendLimit does it with the
// default bound: one writev(2) of the record to "live" under its flock; a
// full "live" sealed under the spool's "lock", the oldest sealed segments
// then dropped and their records counted in "dropped" while the spool is
// over its bound (internal/spool/recscan counts them, as internal/spool
// does); a "live" held past the lock wait: the record written aside, to a
// sealed segment of its own. What is left (a "live" that is not a regular
// file or cannot be opened, a "lock" that cannot be taken) is handed to
// mpm-hookctl, which appends with internal/spool; when it cannot be run,
// the record is written aside too. The record format is internal/spool's
// (its package documentation; lean's tests read these records back with
// it).

const (
	spoolMagic   = "MPM1 "
	segmentBytes = 1 << 20  // spool.SegmentBytes
	maxBytes     = 64 << 20 // spool.DefaultMaxBytes
	// dropTo is spool's dropTo(maxBytes-segmentBytes, segmentBytes): a
	// full spool drops its oldest segments down to this.
	dropTo    = maxBytes - segmentBytes - min(3*segmentBytes, (maxBytes-segmentBytes)/8) // spool.DropSlackSegments
	lockWait  = 80 * 1e6                                                                 // spool.LockWait, in nanoseconds
	maxReopen = 32                                                                       // spool's maxReopen
)

// What appendFast did.
type appendState int

const (
	other    appendState = iota // not handled: internal/spool decides (handOff)
	appended                    // written, or failed writing (err)
	reopen                      // "live" was sealed or renamed meanwhile: reopen it
	held                        // its lock was held past the deadline
)

// spoolAppend appends the record of (key, sent, payload) to the spool in
// dir.
func spoolAppend(dir, key string, sent int64, payload []byte) error {
	if !printable(key, 128) {
		return errString("spool: idempotency key must be 1-128 printable ASCII characters without spaces")
	}
	head := make([]byte, 0, 96)
	head = append(head, spoolMagic...)
	head = append(head, key...)
	head = append(head, ' ')
	head = AppendInt(head, sent)
	head = append(head, ' ')
	head = AppendInt(head, int64(len(payload)))
	head = append(head, ' ')
	head = appendHex32(head, crc32c.Checksum(payload))
	head = append(head, '\n')
	size := int64(len(head) + len(payload) + 1)
	live := dir + "/live"
	deadline := nanotime() + lockWait
	for attempt := 0; attempt < maxReopen; attempt++ {
		state, err := appendFast(dir, live, head, payload, size, deadline)
		switch {
		case state == appended:
			return err
		case state == reopen:
			continue // sealed or renamed: the new "live" is the one
		case state == held:
			// Held past the lock wait by another process: written aside,
			// as internal/spool does, so that the hook never waits long.
			return appendAside(dir, head, payload)
		case err == syscall.ENOENT && attempt == 0:
			mkdirAll(dir)
			continue
		}
		break
	}
	return handOff(dir, head, payload)
}

func appendHex32(b []byte, v uint32) []byte {
	const digits = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, digits[(v>>uint(shift))&0xf])
	}
	return b
}

var newline = [1]byte{'\n'}

// appendFast is spool.appendFast: it says what it did; unless appended,
// nothing was written (err is the open's error, if that failed).
func appendFast(dir, path string, head, payload []byte, size, deadline int64) (state appendState, err error) {
	fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_APPEND|syscall.O_CREAT|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return other, err
	}
	state, err = appendLocked(fd, dir, path, head, payload, size, deadline)
	if cerr := syscall.Close(fd); state == appended && err == nil && cerr != nil {
		err = &pathError{"close", path, cerr} // also released the lock
	}
	return state, err
}

// appendLocked is appendFast once path is open as fd.
func appendLocked(fd int, dir, path string, head, payload []byte, size, deadline int64) (appendState, error) {
	switch flockUntil(fd, path, deadline) {
	case lockGone:
		return reopen, nil
	case lockHeld:
		return held, nil
	case lockFailed:
		return other, nil
	}
	var open, named syscall.Stat_t
	if syscall.Fstat(fd, &open) != nil || open.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return other, nil // not a regular file
	}
	if syscall.Stat(path, &named) != nil || open.Dev != named.Dev || open.Ino != named.Ino {
		return reopen, nil // renamed under us
	}
	if open.Size > 0 && open.Size+size > segmentBytes {
		// The segment must be sealed: done here unless the spool's
		// "lock" cannot be taken (then by internal/spool: handOff).
		if seal(dir, path, open.Size, deadline) {
			return reopen, nil
		}
		return other, nil
	}
	parts := [3][]byte{head, payload, newline[:]}
	var iov [3]syscall.Iovec
	for i := range parts {
		if len(parts[i]) > 0 {
			iov[i].Base = &parts[i][0]
		}
		iov[i].SetLen(len(parts[i]))
	}
	vs := iov[:]
	for len(vs) > 0 {
		n, _, e := syscall.Syscall(syscall.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&vs[0])), uintptr(len(vs)))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return appended, &pathError{"write", path, e}
		}
		for n > 0 && len(vs) > 0 { // a short write: go on after it
			if n < uintptr(vs[0].Len) {
				vs[0].Base = (*byte)(unsafe.Add(unsafe.Pointer(vs[0].Base), n))
				vs[0].Len -= uint64(n)
				break
			}
			n -= uintptr(vs[0].Len)
			vs = vs[1:]
		}
		for len(vs) > 0 && vs[0].Len == 0 {
			vs = vs[1:]
		}
	}
	return appended, nil
}

// seal is spool.rotate: under the spool's "lock", "live" (size bytes,
// whose lock the caller holds) is renamed to a sealed segment; then, while
// the sealed segments take more than the bound less one segment, the
// oldest are dropped down to dropTo (one a drainer holds is skipped) and their records
// added to "dropped". It reports whether it sealed "live". Dropping a
// 1 MiB segment reads and checks it (~0.2 ms); handing it to mpm-hookctl
// cost a run ~3 ms more (docs/benchmarks.md).
func seal(dir, live string, size, deadline int64) bool {
	lockPath := dir + "/lock"
	fd, err := syscall.Open(lockPath, syscall.O_RDWR|syscall.O_CREAT|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return false
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || flockUntil(fd, lockPath, deadline) != locked {
		return false
	}
	segs, ok := sealedSegments(dir)
	if !ok {
		return false
	}
	name := segName(dir, "")
	if syscall.Rename(live, name) != nil {
		return false
	}
	segs = insertSegment(segs, segment{name: name[len(dir)+1:], size: size})
	var total int64
	for _, s := range segs {
		total += s.size
	}
	if total <= maxBytes-segmentBytes {
		return true
	}
	var lost int64
	for _, s := range segs {
		if total <= dropTo {
			break
		}
		if n, ok := dropSegment(dir + "/" + s.name); ok {
			total -= s.size
			lost += n
		}
	}
	if lost > 0 {
		addDroppedLocked(dir, lost)
	}
	return true
}

// segment is a sealed segment's name and size.
type segment struct {
	name string
	size int64
}

// insertSegment adds s to segs, which are sorted by name (= age).
func insertSegment(segs []segment, s segment) []segment {
	segs = append(segs, s)
	for i := len(segs) - 1; i > 0 && segs[i].name < segs[i-1].name; i-- {
		segs[i], segs[i-1] = segs[i-1], segs[i]
	}
	return segs
}

// sealedSegments is spool.listSegments: the sealed segments in dir (regular
// files named seg-*, not *.tmp), oldest (smallest name) first.
func sealedSegments(dir string) ([]segment, bool) {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer syscall.Close(fd)
	var buf [8 << 10]byte
	names := make([]string, 0, 64)
	segs := make([]segment, 0, 80)
	for {
		n, err := syscall.ReadDirent(fd, buf[:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		if n <= 0 {
			break
		}
		names = names[:0]
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
		for _, name := range names {
			if len(name) <= len("seg-") || name[:len("seg-")] != "seg-" || hasTmpExt(name) {
				continue
			}
			var st syscall.Stat_t
			if syscall.Lstat(dir+"/"+name, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
				continue
			}
			segs = insertSegment(segs, segment{name: name, size: st.Size})
		}
	}
	return segs, true
}

// dropSegment is spool.dropSegment: it deletes the sealed segment at path
// unless a drainer holds it, and returns how many records it held
// (damaged stretches counted as one each).
func dropSegment(path string) (int64, bool) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if err != nil {
		return 0, false
	}
	defer syscall.Close(fd)
	var open, named syscall.Stat_t
	if syscall.Fstat(fd, &open) != nil || open.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return 0, false
	}
	if flockUntil(fd, path, 0) != locked {
		return 0, false // a drainer is delivering it
	}
	if syscall.Stat(path, &named) != nil || open.Dev != named.Dev || open.Ino != named.Ino {
		return 0, false
	}
	n, ok := countRecords(fd, open.Size)
	if !ok {
		// Damaged, or changed under the lock: the whole segment read,
		// and counted as internal/spool counts it.
		data, ok := readFile(fd, open.Size)
		if !ok {
			return 0, false
		}
		n = recscan.Count(data)
	}
	if syscall.Unlink(path) != nil {
		return 0, false
	}
	return n, true
}

// segArea is countRecords' window on a segment (static: the same few pages
// for every chunk, where reading a whole 1 MiB segment into the heap cost
// ~190 page faults).
var segArea [64 << 10]byte

// countRecords counts the records of the segment open as fd (size bytes)
// chunk by chunk, each checked as recscan.At checks it (header, length,
// newline, CRC-32C); ok is false at the first record that does not check
// out (or a short read), and then the caller counts it whole with
// recscan.Count, which also counts damaged stretches. It reads with
// pread(2): fd's offset stays at 0.
func countRecords(fd int, size int64) (count int64, ok bool) {
	w := window{fd: fd, size: size, buf: segArea[:]}
	for p := int64(0); p < size; {
		// The header whole in the window (or all that is left of the file).
		if p < w.off || p+int64(recscan.MaxHeaderLen) > w.end() && w.end() < size {
			if !w.fill(p) {
				return 0, false
			}
		}
		h, ok := recscan.ParseHead(w.buf[p-w.off : w.n])
		if !ok {
			return 0, false
		}
		off := p + int64(h.Size)
		stop := off + h.Len + 1 // the payload and its newline
		if stop > size {
			return 0, false
		}
		var crc uint32
		var last byte
		for off < stop {
			if off >= w.end() && !w.fill(off) {
				return 0, false
			}
			chunk := w.buf[off-w.off : min(w.end(), stop)-w.off]
			off += int64(len(chunk))
			if off == stop { // the newline ends this chunk
				last = chunk[len(chunk)-1]
				chunk = chunk[:len(chunk)-1]
			}
			crc = crc32c.Update(crc, chunk)
		}
		if last != '\n' || crc != h.Sum {
			return 0, false
		}
		count++
		p = stop
	}
	return count, true
}

// window holds n bytes of a file of size bytes, from offset off, in buf.
type window struct {
	fd   int
	size int64
	buf  []byte
	off  int64
	n    int
}

func (w *window) end() int64 { return w.off + int64(w.n) }

// fill reads as much of the file from at as buf holds.
func (w *window) fill(at int64) bool {
	k := int(min(int64(len(w.buf)), w.size-at))
	if !preadFull(w.fd, w.buf[:k], at) {
		w.n = 0
		return false
	}
	w.off, w.n = at, k
	return true
}

// preadFull reads len(b) bytes of fd at off; false when fewer came.
func preadFull(fd int, b []byte, off int64) bool {
	for len(b) > 0 {
		n, err := syscall.Pread(fd, b, off)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return false
		}
		b, off = b[n:], off+int64(n)
	}
	return true
}

// readFile reads fd to its end; size is its size a moment ago.
func readFile(fd int, size int64) ([]byte, bool) {
	buf := make([]byte, 0, size+512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		if n <= 0 {
			return buf, true
		}
		buf = buf[:len(buf)+n]
	}
}

// addDroppedLocked adds n to "dropped"; the caller holds "lock", as every
// writer of "dropped" does. internal/spool writes a temporary file and
// renames it over "dropped"; here the number is rewritten in place (one
// pwrite, the file cut when the text got shorter, which only a damaged
// file makes happen): a rename over an existing file makes ext4 start
// writing the new file out at once, ~a third of what dropping a segment
// cost a hook run. The count only grows, so a reader never sees old digits
// past the new ones.
func addDroppedLocked(dir string, n int64) {
	path := dir + "/dropped"
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return
	}
	var cur int64
	if b, ok := readFile(fd, st.Size); ok {
		cur = recscan.ParseDropped(b)
	}
	text := append(AppendInt(make([]byte, 0, 24), cur+n), '\n')
	for b, off := text, int64(0); len(b) > 0; {
		k, err := syscall.Pwrite(fd, b, off)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || k <= 0 {
			return
		}
		b, off = b[k:], off+int64(k)
	}
	if int64(len(text)) < st.Size {
		syscall.Ftruncate(fd, int64(len(text)))
	}
}

// hasTmpExt reports whether filepath.Ext(name) is ".tmp".
func hasTmpExt(name string) bool {
	i := len(name) - 1
	for i >= 0 && name[i] != '.' && name[i] != '/' {
		i--
	}
	return i >= 0 && name[i] == '.' && name[i:] == ".tmp"
}

// segName is spool.segName's path in dir: seg-<unix nano, 20 digits>-<pid>,
// then suffix.
func segName(dir, suffix string) string {
	name := make([]byte, 0, len(dir)+64)
	name = append(name, dir...)
	name = append(name, "/seg-"...)
	ns := AppendInt(nil, wallNano())
	for i := len(ns); i < 20; i++ {
		name = append(name, '0')
	}
	name = append(name, ns...)
	name = append(name, '-')
	name = AppendInt(name, int64(syscall.Getpid()))
	return string(append(name, suffix...))
}

// flockUntil's outcomes.
const (
	locked     = iota
	lockHeld   // still held by someone else at the deadline
	lockGone   // fd is no longer the file at path (renamed by a drainer)
	lockFailed // flock failed
)

// flockUntil is spool's: the exclusive flock on fd, tried until deadline
// (at least once) with short pauses taken by select(2).
func flockUntil(fd int, path string, deadline int64) int {
	pause := millisecond
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		switch err {
		case nil:
			return locked
		case syscall.EINTR:
			continue
		case syscall.EWOULDBLOCK:
		default:
			return lockFailed
		}
		var open, named syscall.Stat_t
		if syscall.Fstat(fd, &open) != nil || syscall.Stat(path, &named) != nil || open.Dev != named.Dev || open.Ino != named.Ino {
			return lockGone
		}
		left := deadline - nanotime()
		if left <= 0 {
			return lockHeld
		}
		tv := syscall.NsecToTimeval(min(pause, left))
		syscall.Select(0, nil, nil, nil, &tv) // a plain sleep
		pause = min(2*pause, 10*millisecond)
	}
}

// mkdirAll is os.MkdirAll(dir, 0o700), best effort.
func mkdirAll(dir string) {
	err := syscall.Mkdir(dir, 0o700)
	if err == syscall.ENOENT && dir != "/" && dir != "" {
		mkdirAll(dirOf(dir))
		syscall.Mkdir(dir, 0o700)
	}
}

// handOff appends the record with mpm-hookctl (internal/spool's general
// path: sealing, the bound, a held lock), the record on its stdin; when
// mpm-hookctl cannot be run, it writes the record aside.
func handOff(dir string, head, payload []byte) error {
	ctl, _ := findCtl()
	if ctl == "" {
		return appendAside(dir, head, payload)
	}
	var in, out [2]int
	if err := syscall.Pipe2(in[:], syscall.O_CLOEXEC); err != nil {
		return appendAside(dir, head, payload)
	}
	if err := syscall.Pipe2(out[:], syscall.O_CLOEXEC); err != nil {
		syscall.Close(in[0])
		syscall.Close(in[1])
		return appendAside(dir, head, payload)
	}
	pid, err := syscall.ForkExec(ctl, []string{ctl, SpoolArg, dir}, &syscall.ProcAttr{
		Env:   syscall.Environ(),
		Files: []uintptr{uintptr(in[0]), uintptr(out[1]), 2},
	})
	syscall.Close(in[0])
	syscall.Close(out[1])
	if err != nil {
		syscall.Close(in[1])
		syscall.Close(out[0])
		return appendAside(dir, head, payload)
	}
	writeAll(in[1], head)
	writeAll(in[1], payload)
	writeAll(in[1], newline[:])
	syscall.Close(in[1])
	var msg [512]byte
	got := 0
	for got < len(msg) {
		n, err := syscall.Read(out[0], msg[got:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		got += n
	}
	syscall.Close(out[0])
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	if ws.Exited() && ws.ExitStatus() == 0 {
		return nil
	}
	if got > 0 {
		return errString(trimSpace(string(msg[:got])))
	}
	return errString(CtlName + " did not append the record to the spool")
}

// writeAll writes b to fd (blocking), best effort.
func writeAll(fd int, b []byte) {
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		b = b[n:]
	}
}

// asideSeq tells apart the segments this process writes aside.
var asideSeq uint64

// appendAside is spool.appendAside: the record as a sealed segment of its
// own, written under a temporary name, then renamed.
func appendAside(dir string, head, payload []byte) error {
	mkdirAll(dir)
	asideSeq++
	final := segName(dir, "-a"+string(AppendInt(nil, int64(asideSeq))))
	tmp := final + ".tmp"
	fd, err := syscall.Open(tmp, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return &pathError{"open", tmp, err}
	}
	werr := writeFull(fd, head)
	if werr == nil {
		werr = writeFull(fd, payload)
	}
	if werr == nil {
		werr = writeFull(fd, newline[:])
	}
	if cerr := syscall.Close(fd); werr == nil && cerr != nil {
		werr = cerr
	}
	if werr == nil {
		if err := syscall.Rename(tmp, final); err != nil {
			werr = &pathError{"rename", tmp, err}
		}
	}
	if werr != nil {
		syscall.Unlink(tmp)
	}
	return werr
}

// writeFull writes b to a regular file.
func writeFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
