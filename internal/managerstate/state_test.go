package managerstate

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Read of empty dir: %v, want ErrNotExist", err)
	}
	in := State{ManagerPID: os.Getpid(), Addr: "127.0.0.1:1", DataDir: dir, Phase: PhaseRunning,
		DaemonPID: 42, Restarts: 3, LastExit: "exit status 1",
		LastHealth: &Health{OK: true, At: time.Now()}}
	if err := Write(dir, in); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Schema != SchemaVersion || got.DaemonPID != 42 || got.Restarts != 3 || got.Phase != PhaseRunning ||
		got.LastHealth == nil || !got.LastHealth.OK || got.Updated.IsZero() {
		t.Fatalf("round trip lost data: %+v", got)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temp files left behind: %v", ents)
	}
	// The test binary is alive but is not an mpm-manager.
	if got.ManagerAlive() {
		t.Fatal("ManagerAlive true for a process that is not mpm-manager")
	}
	if (State{ManagerPID: 1 << 30}).ManagerAlive() {
		t.Fatal("ManagerAlive true for a pid that does not exist")
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeRejects(t *testing.T) {
	if _, err := Decode([]byte("{")); err == nil {
		t.Fatal("broken JSON accepted")
	}
	if _, err := Decode([]byte(`{"schema":99}`)); err == nil {
		t.Fatal("future schema accepted silently")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"schema":1,"phase":"running","daemon_pid":5,"last_health":{"ok":true}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err == nil && s.Schema > SchemaVersion {
			t.Fatal("accepted newer schema")
		}
	})
}
