package svc

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// LogFile is an append-only log file that keeps one previous generation:
// past MaxBytes it is renamed to "<path>.1" and started over. It is for
// platforms whose service manager does not keep a service's stderr
// (Windows).
type LogFile struct {
	// Path is the log file.
	Path string
	// MaxBytes is the size at which it rotates.
	MaxBytes int64

	mu   sync.Mutex
	f    *os.File
	size int64
}

// OpenLogFile opens (creating) path for appending.
func OpenLogFile(path string, maxBytes int64) (*LogFile, error) {
	l := &LogFile{Path: path, MaxBytes: maxBytes}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *LogFile) open() error {
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o700); err != nil {
		return fmt.Errorf("create log directory: %w", err)
	}
	f, err := os.OpenFile(l.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	l.f, l.size = f, fi.Size()
	return nil
}

// Write appends p, rotating first when the file is full.
func (l *LogFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.MaxBytes > 0 && l.size+int64(len(p)) > l.MaxBytes && l.size > 0 {
		l.f.Close()
		os.Rename(l.Path, l.Path+".1")
		if err := l.open(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

// Close closes the file.
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}
