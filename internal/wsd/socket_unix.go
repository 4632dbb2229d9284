//go:build unix

package wsd

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"
)

// maxSocketPath is the longest path a Unix socket may have (sun_path holds
// 104 bytes on the BSDs and macOS, 108 on Linux, with the final NUL).
const maxSocketPath = 103

func selfUID() int { return os.Geteuid() }

// listenSocket binds the Unix socket at path, mode 0600. A socket file
// left by a daemon that died is replaced, but only when nothing answers on
// it: a live one (another mpm-wsd on this data directory) is left alone
// and this daemon serves TCP only. An error means no socket (the hook then
// uses TCP); it is logged, not fatal.
func listenSocket(path string) (net.Listener, error) {
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("the path %s is longer than a Unix socket path may be (%d bytes): the hook uses TCP; choose a shorter --data-dir for the faster socket", path, maxSocketPath)
	}
	ln, err := net.Listen("unix", path)
	if errors.Is(err, syscall.EADDRINUSE) {
		fi, lerr := os.Lstat(path)
		if lerr != nil {
			return nil, lerr
		}
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("%s exists and is not a socket: the hook uses TCP; remove the file to get the faster socket", path)
		}
		c, derr := net.DialTimeout("unix", path, time.Second)
		if derr == nil {
			c.Close()
			return nil, fmt.Errorf("another process (another mpm-wsd on this data directory?) answers on %s: this daemon serves TCP only", path)
		}
		if !errors.Is(derr, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%s exists and its state is unclear (%v): left alone, the hook uses TCP", path, derr)
		}
		// Stale: left by a daemon that did not shut down cleanly.
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove the stale socket %s: %w", path, err)
		}
		ln, err = net.Listen("unix", path)
	}
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	fi, err := os.Lstat(path)
	if err != nil {
		ln.Close()
		return nil, err
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	return &ownSocket{UnixListener: ul, path: path, fi: fi}, nil
}

// ownSocket is the socket listener; closing it removes the socket file
// only while it is still the one bound here, not a file put in its place
// since (another daemon's socket, a user's file).
type ownSocket struct {
	*net.UnixListener
	path string
	fi   fs.FileInfo
}

func (l *ownSocket) Close() error {
	err := l.UnixListener.Close()
	if fi, lerr := os.Lstat(l.path); lerr == nil && os.SameFile(fi, l.fi) {
		os.Remove(l.path)
	}
	return err
}
