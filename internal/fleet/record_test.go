package fleet

import (
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
)

func TestDecodeRoundTrip(t *testing.T) {
	ev, err := event.Parse([]byte(`{"session_id":"s.1","hook_event_name":"PreToolUse","tool_name":"Bash"}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	ev.Seq, ev.Origin, ev.OriginSeq = 9, "box a", 9
	ev.Received = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	got, err := decode(ev.Wire(), "box a:9", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got.Origin != "box a" || got.OriginSeq != 9 || got.Key != "box a:9" || !got.Received.Equal(ev.Received) || got.Tool != "Bash" || string(got.Payload) != string(ev.Payload) {
		t.Errorf("decoded %+v", got)
	}
	for _, bad := range []string{`{}`, `{"payload":{"session_id":"s","hook_event_name":"x"},"seq":1}`, `[1]`, `{"origin":"o","seq":1,"payload":"x"}`} {
		if _, err := decode([]byte(bad), "", 1<<20); err == nil {
			t.Errorf("decode(%s) accepted", bad)
		}
	}
}

func TestTokenAndValidate(t *testing.T) {
	if got := Subject("ci.runner*1 >", "a b.c"); got != "mpm.events.ci_runner_1__.a_b_c" {
		t.Errorf("subject %q", got)
	}
	c := Config{URL: "nats://127.0.0.1:4222", DataDir: "/tmp", Origin: "x"}.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Config){
		"creds and user": func(c *Config) { c.Creds, c.User = "f", "u" },
		"password only":  func(c *Config) { c.Password = "p" },
		"control origin": func(c *Config) { c.Origin = "a\nb" },
		"no url":         func(c *Config) { c.URL = "" },
		"hub name":       func(c *Config) { c.Hub, c.HubName = true, "a.b" },
		"missing creds":  func(c *Config) { c.Creds = "/nonexistent/x.creds" },
		"token and user": func(c *Config) { c.Token, c.User = "t", "u" },
		"inbox wildcard": func(c *Config) { c.InboxPrefix = "_INBOX.>" },
		"tiny max bytes": func(c *Config) { c.MaxBytes = 1000 },
	} {
		bad := c
		mod(&bad)
		if err := bad.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if o := DefaultOrigin(); o == "" || SubjectPart(o) != o || !strings.Contains(o, "-") {
		t.Errorf("default origin %q", o)
	}
}

// FuzzDecode: any message on the stream is decoded or refused, never a
// panic, and what is accepted carries an origin, an origin seq and a key.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"seq":1,"received":"2026-01-02T03:04:05Z","session_id":"s","event":"E","origin":"o","origin_seq":1,"payload":{"session_id":"s","hook_event_name":"E"}}`), "o:1")
	f.Add([]byte(`{"seq":1,"origin":"o","payload":{"session_id":"t","hook_event_name":"E"},"session_id":"s"}`), "")
	f.Add([]byte(`{"origin":"o","payload":null}`), "x y")
	f.Fuzz(func(t *testing.T, data []byte, id string) {
		ev, err := decode(data, id, 1<<16)
		if err != nil {
			return
		}
		if ev.Origin == "" || ev.OriginSeq == 0 || ev.Key == "" || ev.SessionID == "" {
			t.Fatalf("accepted %s as %+v", data, ev)
		}
	})
}
