//go:build linux

package svc

// A real systemd for the end-to-end test: a Debian bookworm root
// (debootstrap, cached outside the repository) booted with systemd-nspawn,
// commands run inside with nsenter. See TestRealSystemd.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// nspawnRootDefault is where the debootstrapped root is cached
// (MPM_NSPAWN_ROOT overrides it).
const nspawnRootDefault = "/var/cache/mpm-nspawn/bookworm"

// nspawnPackages are what the root needs beyond minbase.
const nspawnPackages = "systemd,systemd-sysv,dbus,curl,procps,libpam-systemd,iproute2"

// requireSystemd skips (or, with MPM_REQUIRE_SYSTEMD=1, fails) with msg.
func requireSystemd(t *testing.T, msg string, a ...any) {
	t.Helper()
	m := fmt.Sprintf(msg, a...)
	if os.Getenv("MPM_REQUIRE_SYSTEMD") != "" {
		t.Fatal(m + " (MPM_REQUIRE_SYSTEMD is set)")
	}
	t.Skip(m + "; set MPM_REQUIRE_SYSTEMD=1 to fail instead")
}

// debianMirror is the Debian mirror apt uses here, for debootstrap.
func debianMirror() string {
	for _, f := range []string{"/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 2 && fields[0] == "URIs:" && !strings.Contains(fields[1], "security") {
				return fields[1]
			}
			if len(fields) >= 3 && fields[0] == "deb" && !strings.Contains(fields[1], "security") && strings.HasPrefix(fields[1], "http") {
				return fields[1]
			}
		}
	}
	return "http://deb.debian.org/debian"
}

// nspawnRoot returns the cached bookworm root, building it once with
// debootstrap (under a lock, into a temporary directory renamed at the end,
// so that an interrupted build is never used).
func nspawnRoot(t *testing.T) string {
	root := os.Getenv("MPM_NSPAWN_ROOT")
	if root == "" {
		root = nspawnRootDefault
	}
	if _, err := os.Stat(filepath.Join(root, "usr/lib/systemd/systemd")); err == nil {
		return root
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		requireSystemd(t, "no bookworm root at %s and no debootstrap to make one (apt-get install -y systemd-container debootstrap)", root)
	}
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		requireSystemd(t, "cannot create %s: %v", filepath.Dir(root), err)
	}
	lock, err := os.OpenFile(root+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/lib/systemd/systemd")); err == nil {
		return root // built by another test process meanwhile
	}
	tmp := root + ".tmp"
	os.RemoveAll(tmp)
	start := time.Now()
	cmd := exec.Command("debootstrap", "--variant=minbase", "--include="+nspawnPackages, "bookworm", tmp, debianMirror())
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		t.Fatalf("debootstrap: %v\n%s", err, tail(string(out), 20))
	}
	if err := os.Rename(tmp, root); err != nil {
		t.Fatal(err)
	}
	t.Logf("debootstrapped %s in %s", root, time.Since(start).Round(time.Second))
	return root
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// machine is a booted container.
type machine struct {
	t      *testing.T
	name   string
	dir    string // the merged root it boots from
	nspawn *exec.Cmd
	done   chan struct{}
	pid1   int
	log    *testutil.SyncBuffer
}

// newMachine prepares a writable copy-on-write root over the cached one
// (overlayfs on a tmpfs, kept across the reboots of one test and thrown
// away after), with mpm's binaries in /usr/local/bin, and boots it.
func newMachine(t *testing.T, bins ...string) *machine {
	if os.Geteuid() != 0 {
		requireSystemd(t, "booting systemd in a container needs root")
	}
	for _, tool := range []string{"systemd-nspawn", "nsenter", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			requireSystemd(t, "%s not found (apt-get install -y systemd-container debootstrap)", tool)
		}
	}
	lower := nspawnRoot(t)
	base := t.TempDir()
	tmpfs := filepath.Join(base, "rw")
	merged := filepath.Join(base, "root")
	os.MkdirAll(tmpfs, 0o755)
	os.MkdirAll(merged, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1g", "mpm-e2e", tmpfs).CombinedOutput(); err != nil {
		requireSystemd(t, "cannot mount a tmpfs (not privileged enough?): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", tmpfs).Run() })
	os.MkdirAll(filepath.Join(tmpfs, "upper"), 0o755)
	os.MkdirAll(filepath.Join(tmpfs, "work"), 0o755)
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower, tmpfs, tmpfs)
	if out, err := exec.Command("mount", "-t", "overlay", "-o", opts, "mpm-e2e", merged).CombinedOutput(); err != nil {
		requireSystemd(t, "cannot mount an overlay over %s: %v %s", lower, err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", merged).Run() })
	for _, b := range bins {
		data, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(merged, "usr/local/bin", filepath.Base(b)), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m := &machine{t: t, name: fmt.Sprintf("mpm-e2e-%d", os.Getpid()), dir: merged}
	m.boot()
	t.Cleanup(m.poweroff)
	return m
}

// boot starts systemd in the container and waits until it has booted.
func (m *machine) boot() {
	t := m.t
	m.pid1 = 0
	m.log = &testutil.SyncBuffer{}
	m.done = make(chan struct{})
	m.nspawn = exec.Command("systemd-nspawn", "-D", m.dir, "-b", "--register=no", "--keep-unit", "--private-network", "-M", m.name)
	m.nspawn.Stdout, m.nspawn.Stderr = m.log, m.log
	m.nspawn.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := m.nspawn.Start(); err != nil {
		requireSystemd(t, "systemd-nspawn: %v", err)
	}
	go func() { m.nspawn.Wait(); close(m.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for m.pid1 == 0 {
		select {
		case <-m.done:
			requireSystemd(t, "systemd-nspawn exited at boot: %s", tail(m.log.String(), 15))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no systemd in the container after 60s: %s", tail(m.log.String(), 15))
		}
		// nspawn's child that runs systemd (an intermediate child comes
		// and goes first).
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", m.nspawn.Process.Pid, m.nspawn.Process.Pid))
		for _, f := range strings.Fields(string(b)) {
			comm, _ := os.ReadFile("/proc/" + f + "/comm")
			if strings.TrimSpace(string(comm)) == "systemd" {
				m.pid1, _ = strconv.Atoi(f)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Wait until boot is over ("running", or "degraded" when some unit of
	// the minimal root fails, which does not concern mpm).
	for {
		out, _ := m.sh("systemctl is-system-running")
		if s := strings.TrimSpace(out); s == "running" || s == "degraded" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container did not finish booting in 60s (%s): %s", out, tail(m.log.String(), 15))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// poweroff shuts the container down and waits for nspawn to exit.
func (m *machine) poweroff() {
	if m.nspawn == nil {
		return
	}
	select {
	case <-m.done:
		return
	default:
	}
	m.sh("systemctl poweroff")
	select {
	case <-m.done:
	case <-time.After(60 * time.Second):
		m.t.Logf("the container did not power off in 60s; killing systemd-nspawn")
		m.nspawn.Process.Kill()
		<-m.done
	}
}

// sh runs a bash script as root inside the container.
func (m *machine) sh(script string) (string, error) {
	cmd := exec.Command("nsenter", "-t", strconv.Itoa(m.pid1), "-a", "--",
		"env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8",
		"bash", "-c", script)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// must runs script and fails the test when it fails.
func (m *machine) must(script string) string {
	m.t.Helper()
	out, err := m.sh(script)
	if err != nil {
		m.t.Fatalf("in the container: %s\n%v\n%s", script, err, out)
	}
	return out
}

// code runs script and returns its exit code and output.
func (m *machine) code(script string) (int, string) {
	out, err := m.sh(script)
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out
	}
	if err != nil {
		m.t.Fatalf("nsenter: %v", err)
	}
	return 0, out
}

// seconds runs script (which prints a number of seconds on its last line)
// and returns it.
func (m *machine) seconds(script string) float64 {
	m.t.Helper()
	out := m.must(script)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	f, err := strconv.ParseFloat(strings.TrimSpace(lines[len(lines)-1]), 64)
	if err != nil {
		m.t.Fatalf("no seconds in the output of %s: %s", script, out)
	}
	return f
}
