//go:build linux

package wsd

// The daemon's memory under the attacks of issue 13 by a token holder,
// each against the real binary: the peak RSS while it lasts, sampled every
// 20 ms from /proc. Target: each stays under 200 MB. Run with:
//   go test -run '^$' -bench BenchmarkAttackRSS -benchtime 1x ./internal/wsd/

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// peakRSS runs attack and returns the daemon's highest RSS meanwhile, in MB.
func peakRSS(b *testing.B, d *testutil.Daemon, attack func()) float64 {
	var mu sync.Mutex
	peak := rssKiB(b, d.Pid())
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				r := rssKiB(b, d.Pid())
				mu.Lock()
				peak = max(peak, r)
				mu.Unlock()
			}
		}
	}()
	attack()
	close(stop)
	<-done
	return float64(peak) / 1024
}

func BenchmarkAttackRSS(b *testing.B) {
	// 4 connections send 60 KB frames of an unknown type, never reading
	// the replies, for 8 s (reconnecting when closed).
	b.Run("unread-replies", func(b *testing.B) {
		d := testutil.StartDaemon(b, "--log-level", "warn", "--journal=false")
		frame := []byte(`{"type":"` + strings.Repeat("<", 60<<10) + `"}`)
		hdr := http.Header{"Authorization": {"Bearer " + d.Token()}}
		closed := 0
		var mu sync.Mutex
		mb := peakRSS(b, d, func() {
			end := time.Now().Add(8 * time.Second)
			var wg sync.WaitGroup
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for time.Now().Before(end) {
						c, _, err := websocket.DefaultDialer.Dial("ws://"+d.Addr+"/v1/ws", hdr)
						if err != nil {
							time.Sleep(10 * time.Millisecond)
							continue
						}
						for time.Now().Before(end) {
							c.SetWriteDeadline(end)
							if c.WriteMessage(websocket.TextMessage, frame) != nil {
								mu.Lock()
								closed++
								mu.Unlock()
								break
							}
						}
						c.Close()
					}
				}()
			}
			wg.Wait()
		})
		b.ReportMetric(mb, "peak-RSS-MB")
		b.ReportMetric(float64(closed), "connections-closed")
	})

	// A journal of about 100 MB (6,000 events of 16 KB), then: 10 clients
	// replaying since=0&tail=1000000000; 8 clients paging GET /v1/events
	// with limit=10000; 200 POSTs announcing 1 MiB and sending 100 bytes.
	b.Run("journal", func(b *testing.B) {
		d := testutil.StartDaemon(b, "--log-level", "warn")
		blob := strings.Repeat("x", 16<<10)
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := newPoster(d)
				for i := w; i < 6000; i += 8 {
					if err := p.post([]byte(fmt.Sprintf(`{"session_id":"s%d","hook_event_name":"PostToolUse","blob":%q}`, i%4, blob))); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		d.Stop() // a fresh process: nothing of the ingest in its RSS
		d.Start()
		tok := d.Token()
		base := float64(rssKiB(b, d.Pid())) / 1024
		b.ReportMetric(base, "idle-RSS-MB")

		replay := peakRSS(b, d, func() {
			var wg sync.WaitGroup
			for i := 0; i < 10; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, _, err := websocket.DefaultDialer.Dial("ws://"+d.Addr+"/v1/ws?since=0&tail=1000000000", http.Header{"Authorization": {"Bearer " + tok}})
					if err != nil {
						b.Error(err)
						return
					}
					defer c.Close()
					c.SetReadDeadline(time.Now().Add(2 * time.Minute))
					for {
						_, data, err := c.ReadMessage()
						if err != nil {
							b.Error(err)
							return
						}
						if bytes.HasPrefix(data, []byte(`{"type":"live"`)) {
							return
						}
					}
				}()
			}
			wg.Wait()
		})
		b.ReportMetric(replay, "replay-10x-tail-peak-RSS-MB")
		d.Stop() // each attack on a fresh process
		d.Start()

		history := peakRSS(b, d, func() {
			var wg sync.WaitGroup
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for since := "0"; ; {
						req, _ := http.NewRequest(http.MethodGet, d.URL("/v1/events?limit=10000&since="+since), nil)
						req.Header.Set("Authorization", "Bearer "+tok)
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						body, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						i := bytes.LastIndex(body, []byte(`"next_since":`))
						if i < 0 {
							b.Errorf("GET /v1/events: %d %.200s", resp.StatusCode, body)
							return
						}
						next := string(body[i+len(`"next_since":`):])
						next = next[:strings.IndexByte(next, ',')]
						if next == since {
							return
						}
						since = next
					}
				}()
			}
			wg.Wait()
		})
		b.ReportMetric(history, "history-8x-peak-RSS-MB")
		d.Stop()
		d.Start()

		slow := peakRSS(b, d, func() {
			var conns []net.Conn
			for i := 0; i < 200; i++ {
				c, err := net.Dial("tcp", d.Addr)
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, c)
				fmt.Fprintf(c, "POST /v1/events HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", d.Addr, tok, 1<<20, strings.Repeat("{", 100))
			}
			time.Sleep(3 * time.Second) // the bodies stall: what does the daemon hold meanwhile?
			for _, c := range conns {
				c.Close()
			}
		})
		b.ReportMetric(slow, "slow-bodies-200x-peak-RSS-MB")
	})
}
