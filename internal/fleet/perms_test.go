package fleet

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The permissions of deploy/nats/nats-server.conf, for the test.
var (
	edgePerms = &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: []string{"mpm.events.>", "$JS.API.STREAM.INFO.MPM_EVENTS"}},
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}},
	}
	hubPerms = &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			"$JS.API.STREAM.INFO.MPM_EVENTS", "$JS.API.STREAM.CREATE.MPM_EVENTS",
			"$JS.API.CONSUMER.CREATE.MPM_EVENTS.>", "$JS.API.CONSUMER.INFO.MPM_EVENTS.>",
			"$JS.API.CONSUMER.MSG.NEXT.MPM_EVENTS.>", "$JS.ACK.MPM_EVENTS.>",
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}},
	}
)

// TestPublishOnlyCannotConsume: with the deploy config's permissions an
// edge publishes and the hub consumes, but the edge's credentials can
// neither create a consumer nor subscribe to the events.
func TestPublishOnlyCannotConsume(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir(), func(o *server.Options) {
		o.Users = []*server.User{
			{Username: "edge", Password: "edge-pw", Permissions: edgePerms},
			{Username: "hub", Password: "hub-pw", Permissions: hubPerms},
		}
	})
	edgeIntoHub(t, ns.url(), "hub", "hub-pw", "edge", "edge-pw", 20)

	denied := make(chan error, 4)
	nc, err := nats.Connect(ns.url(), nats.UserInfo("edge", "edge-pw"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { denied <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := js.CreateOrUpdateConsumer(ctx, DefaultStream, jetstream.ConsumerConfig{Durable: "thief", AckPolicy: jetstream.AckExplicitPolicy}); err == nil {
		t.Error("edge credentials created a consumer")
	}
	if _, err := nc.Subscribe("mpm.events.>", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-denied:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Errorf("subscribe: %v, want a permissions violation", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("edge credentials subscribed to the events without a permissions violation")
	}
}
