//go:build unix

package wsd

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/hashicorp/go-hclog"
)

// restrictUmask makes every file and directory the daemon creates private
// (0600/0700), whatever mode the code or a library (SQLite makes its
// journal 0644) asks for.
func restrictUmask() { syscall.Umask(0o077) }

// owner returns fi's owner uid.
func owner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// tighten sets path's permission bits to perm when it exists, is a
// regular file or directory of ours, and allows more.
func tighten(path string, perm fs.FileMode, log hclog.Logger) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink != 0 || fi.Mode().Perm()&^perm == 0 {
		return
	}
	if uid, ok := owner(fi); !ok || uid != os.Geteuid() {
		return
	}
	if err := os.Chmod(path, perm|fi.Mode()&fs.ModeSticky); err != nil {
		log.Warn("cannot make it private", "path", path, "error", err)
		return
	}
	log.Info("made it private", "path", path, "was", fmt.Sprintf("%04o", fi.Mode().Perm()), "now", fmt.Sprintf("%04o", perm))
}

// securePath tightens the data directory to 0700 when it is ours, and
// refuses it when other users can write to it or replace it: it is not
// ours (or root's) and others may write to it, or one of its parents that
// is ours lets group or others write to it, or any parent lets everyone
// write without the sticky bit.
func securePath(dir string, log hclog.Logger) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	self := os.Geteuid()
	fi, err := os.Stat(abs)
	if err != nil {
		return err
	}
	uid, _ := owner(fi)
	if uid == self {
		tighten(abs, 0o700, log)
		if fi, err = os.Stat(abs); err != nil {
			return err
		}
	}
	if fi.Mode().Perm()&0o022 != 0 || (uid != self && uid != 0) {
		return fmt.Errorf("data directory %s (mode %04o, owner uid %d) can be written by other users, who could replace the token or the journal: use a directory of your own (mode 0700), e.g. --data-dir %s, or: chown %d %s && chmod 700 %s",
			abs, fi.Mode().Perm(), uid, filepath.Join(os.Getenv("HOME"), ".local", "state", "mpm"), self, abs, abs)
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		pi, err := os.Stat(p)
		if err != nil {
			return err
		}
		puid, _ := owner(pi)
		sticky := pi.Mode()&fs.ModeSticky != 0
		if !sticky && (pi.Mode().Perm()&0o002 != 0 || (puid == self && pi.Mode().Perm()&0o020 != 0)) {
			return fmt.Errorf("data directory %s lies in %s (mode %04o), which other users can write to: they could move the data directory away and put their own in its place; chmod go-w %s, or choose another --data-dir",
				abs, p, pi.Mode().Perm(), p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}
