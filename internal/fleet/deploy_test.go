package fleet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// TestDeployConfig runs nats-server with deploy/nats/nats-server.conf (on
// a free loopback port and a temp store): an edge and a hub with its users
// carry events through, so the shipped permissions are the working ones.
func TestDeployConfig(t *testing.T) {
	for _, name := range []string{"nats-server.conf", "cluster-3.conf"} {
		if _, err := server.ProcessConfigFile(filepath.Join("..", "..", "deploy", "nats", name)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "nats", "nats-server.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("0.0.0.0:4222", "127.0.0.1:-1", "/var/lib/nats/jetstream", filepath.ToSlash(t.TempDir())).Replace(string(raw))
	path := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ns := startNATS(t, -1, opts.StoreDir, func(o *server.Options) {
		store := o.StoreDir
		*o = *opts
		o.StoreDir, o.NoLog, o.NoSigs, o.Port = store, true, true, -1
	})
	edgeIntoHub(t, ns.url(), "hub", "change-me-hub", "edge", "change-me-edge", 10)
}
