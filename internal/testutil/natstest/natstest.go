// Package natstest runs a real nats-server with JetStream inside a test
// process, on a free 127.0.0.1 port with a temporary store. It is a package
// of its own so that only the tests of fleet mode link nats-server.
package natstest

import (
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Start runs nats-server and returns its URL and a stop function, which is
// also run at the test's cleanup (calling it twice is fine).
func Start(t testing.TB) (url string, stop func()) {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	var once sync.Once
	stop = func() { once.Do(func() { s.Shutdown(); s.WaitForShutdown() }) }
	t.Cleanup(stop)
	return "nats://127.0.0.1:" + strconv.Itoa(s.Addr().(*net.TCPAddr).Port), stop
}
