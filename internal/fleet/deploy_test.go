package fleet

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// startShipped runs nats-server with deploy/nats/nats-server.conf (on a
// free loopback port and a temp store).
func startShipped(t *testing.T) (*natsServer, *server.Options) {
	t.Helper()
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
	var used *server.Options
	ns := startNATS(t, -1, opts.StoreDir, func(o *server.Options) {
		store := o.StoreDir
		*o = *opts.Clone()
		o.StoreDir, o.NoLog, o.NoSigs, o.Port = store, true, true, -1
		used = o
	})
	return ns, used
}

// shippedHub is the hub as the README starts it with the shipped config.
func shippedHub(url string) Config {
	c := hubCfg(url)
	c.User, c.Password, c.InboxPrefix = "hub", "change-me-hub", "_INBOX.hub"
	return c
}

// shippedEdge is a machine of the shipped config: user and origin alike.
func shippedEdge(url, origin, dir string) Config {
	c := edgeCfg(url, origin, dir)
	c.User, c.Password = origin, "change-me-"+origin
	return c
}

// TestDeployConfig: with the shipped config two machines and the hub
// carry events through, so the shipped permissions are the working ones,
// and the stream fits the shipped store and max_payload.
func TestDeployConfig(t *testing.T) {
	ns, opts := startShipped(t)
	hub := startDaemon(t, "", Consumer(shippedHub(ns.url())))
	c := hub.subscribe(t, 0)
	dirA, dirB := t.TempDir(), t.TempDir()
	a := startDaemon(t, dirA, Edge(shippedEdge(ns.url(), "laptop-a", dirA)))
	b := startDaemon(t, dirB, Edge(shippedEdge(ns.url(), "ci-runner-1", dirB)))
	postN(t, a, 1, 10)
	postN(t, b, 1, 10)
	evs := c.waitCount(t, 20, 30*time.Second)
	checkFleet(t, evs, 1, map[string]int{"laptop-a": 10, "ci-runner-1": 10})
	if mp := opts.MaxPayload; int64(mp) < MinMaxPayload(1<<20) {
		t.Errorf("shipped max_payload %d is smaller than a default --max-event-bytes record (%d)", mp, MinMaxPayload(1<<20))
	}
	if ms := opts.JetStreamMaxStore; ms < DefaultMaxBytes {
		t.Errorf("shipped max_file_store %d is smaller than the stream's default max_bytes %d", ms, DefaultMaxBytes)
	}
}

// TestShippedConfigIsolation: with the shipped config a machine can read
// neither another's nor the hub's deliveries, cannot publish on another
// origin's subjects, and a record on its own subject claiming another
// origin is refused by the hub (counted), never shown.
func TestShippedConfigIsolation(t *testing.T) {
	ns, _ := startShipped(t)
	hub := startDaemon(t, "", Consumer(shippedHub(ns.url())))
	c := hub.subscribe(t, 0)
	dirA := t.TempDir()
	a := startDaemon(t, dirA, Edge(shippedEdge(ns.url(), "laptop-a", dirA)))
	postN(t, a, 1, 3)
	c.waitCount(t, 3, 30*time.Second)

	// laptop-a's credentials, by hand.
	denied := make(chan error, 16)
	nc, err := nats.Connect(ns.url(), nats.UserInfo("laptop-a", "change-me-laptop-a"), nats.CustomInboxPrefix("_INBOX.laptop-a"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { denied <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	expectDenied := func(what string) {
		t.Helper()
		select {
		case err := <-denied:
			if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
				t.Errorf("%s: %v, want a permissions violation", what, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: allowed", what)
		}
	}
	for _, subj := range []string{"_INBOX.>", "_INBOX.hub.>", "_INBOX.ci-runner-1.>", "mpm.events.>", "$JS.ACK.>"} {
		if _, err := nc.Subscribe(subj, func(*nats.Msg) {}); err != nil {
			t.Fatal(err)
		}
		expectDenied("subscribe " + subj)
	}
	if err := nc.Publish(Subject("ci-runner-1", "s1"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	expectDenied("publish as ci-runner-1")
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.CreateOrUpdateConsumer(ctx, DefaultStream, jetstream.ConsumerConfig{Durable: "thief", AckPolicy: jetstream.AckExplicitPolicy}); err == nil {
		t.Error("machine credentials created a consumer")
	}
	// A record on its own subject that claims to come from ci-runner-1.
	forged := []byte(`{"seq":1,"received":"2026-01-02T03:04:05Z","session_id":"s1","event":"Stop","origin":"ci-runner-1","origin_seq":1,"payload":{"session_id":"s1","hook_event_name":"Stop","n":1}}`)
	m := &nats.Msg{Subject: Subject("laptop-a", "s1"), Data: forged, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, "ci-runner-1:0000000000000001:1")
	pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer pcancel()
	if _, err := js.PublishMsg(pctx, m); err != nil {
		t.Fatal(err)
	}
	// The edge's next event comes after it: once the hub shows that one,
	// it has judged the forged record.
	postN(t, a, 4, 4)
	evs := c.waitCount(t, 4, 30*time.Second)
	checkFleet(t, evs, 1, map[string]int{"laptop-a": 4})
	if n := counter(t, hub.srv.Registry(), "mpm_fleet_ingest_errors_total"); n != 1 {
		t.Errorf("mpm_fleet_ingest_errors_total %v, want 1 (the forged record)", n)
	}
}

// TestRevokeMachine: deleting a machine's block from the config and
// reloading closes its connection and keeps it out, as deploy/nats says.
func TestRevokeMachine(t *testing.T) {
	ns, used := startShipped(t)
	closed := make(chan struct{})
	nc, err := nats.Connect(ns.url(), nats.UserInfo("ci-runner-1", "change-me-ci-runner-1"), nats.NoReconnect(),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	opts := used.Clone()
	opts.Port = ns.port
	var kept []*server.User
	for _, u := range opts.Users {
		if u.Username != "ci-runner-1" {
			kept = append(kept, u)
		}
	}
	opts.Users = kept
	if err := ns.srv.ReloadOptions(opts); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the revoked machine's connection stayed open")
	}
	if nc2, err := nats.Connect(ns.url(), nats.UserInfo("ci-runner-1", "change-me-ci-runner-1")); err == nil {
		nc2.Close()
		t.Error("the revoked machine logged in again")
	}
}
