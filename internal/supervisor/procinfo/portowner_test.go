package procinfo

import (
	"net"
	"os"
	"runtime"
	"testing"
)

const sampleTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:223D 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:223D 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 5555 1 0000000000000000 20 4 30 10 -1
   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0
garbage line
`

func TestListenInodes(t *testing.T) {
	got := ListenInodes([]byte(sampleTCP), 0x223D)
	if len(got) != 1 || got[0] != 4242 {
		t.Fatalf("ListenInodes(8765) = %v, want [4242] (the ESTABLISHED socket must not count)", got)
	}
	if got := ListenInodes([]byte(sampleTCP), 22); len(got) != 1 || got[0] != 77 {
		t.Fatalf("ListenInodes(22) = %v, want [77]", got)
	}
	if got := ListenInodes([]byte(sampleTCP), 1); len(got) != 0 {
		t.Fatalf("ListenInodes(1) = %v, want none", got)
	}
}

func FuzzListenInodes(f *testing.F) {
	f.Add([]byte(sampleTCP), uint16(8765))
	f.Add([]byte("0: :0 0 0A a b c d e 1"), uint16(0))
	f.Fuzz(func(t *testing.T, b []byte, port uint16) {
		for _, ino := range ListenInodes(b, port) {
			if ino == 0 {
				t.Fatal("inode 0 returned")
			}
		}
	})
}

func TestPortOwnerFindsOurListener(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("PortOwner reads /proc")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	pid, err := PortOwner(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if pid != os.Getpid() {
		t.Fatalf("PortOwner = %d, want our pid %d", pid, os.Getpid())
	}
	name, err := ExeName(pid)
	if err != nil || name == "" {
		t.Fatalf("ExeName(%d) = %q, %v", pid, name, err)
	}
	if !Alive(pid) {
		t.Fatal("Alive(self) = false")
	}
	if Alive(1 << 30) {
		t.Fatal("Alive(huge pid) = true")
	}
	if got := Describe(pid); got != "pid "+itoa(pid)+" ("+name+")" {
		t.Fatalf("Describe = %q", got)
	}
}

func TestBaseName(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/mpm-wsd":                 "mpm-wsd",
		"/tmp/x/mpm-wsd (deleted)":         "mpm-wsd",
		`C:\Program Files\mpm\mpm-wsd.exe`: "mpm-wsd",
	} {
		if got := baseName(in); got != want {
			t.Errorf("baseName(%q) = %q, want %q", in, got, want)
		}
	}
}
