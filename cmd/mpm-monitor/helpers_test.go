package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// monitorProc is a running mpm-monitor.
type monitorProc struct {
	cmd    *exec.Cmd
	stdout *testutil.SyncBuffer
	stderr *testutil.SyncBuffer
	done   chan struct{}
	err    error
}

// start runs mpm-monitor against d (or only with args when d is nil).
func start(t *testing.T, d *testutil.Daemon, args ...string) *monitorProc {
	t.Helper()
	if d != nil {
		args = append([]string{"--addr", d.Addr, "--data-dir", d.DataDir}, args...)
	}
	cmd := exec.Command(testutil.Binary(t, "mpm-monitor"), args...)
	cmd.Env = append(cmd.Environ(), "NO_COLOR=", "COLUMNS=")
	m := &monitorProc{cmd: cmd, stdout: &testutil.SyncBuffer{}, stderr: &testutil.SyncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = m.stdout, m.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { m.err = cmd.Wait(); close(m.done) }()
	t.Cleanup(func() {
		select {
		case <-m.done:
		default:
			cmd.Process.Kill()
			<-m.done
		}
	})
	return m
}

// run runs mpm-monitor to its end and returns stdout, stderr and exit code.
func runMon(t *testing.T, d *testutil.Daemon, args ...string) (string, string, int) {
	t.Helper()
	m := start(t, d, args...)
	return m.wait(t)
}

// wait waits up to a minute for the exit.
func (m *monitorProc) wait(t *testing.T) (string, string, int) {
	t.Helper()
	select {
	case <-m.done:
	case <-time.After(60 * time.Second):
		m.cmd.Process.Kill()
		<-m.done
		t.Fatalf("mpm-monitor did not exit; stdout:\n%s\nstderr:\n%s", m.stdout, m.stderr)
	}
	return m.stdout.String(), m.stderr.String(), m.cmd.ProcessState.ExitCode()
}

// waitLines polls until stdout has n lines.
func (m *monitorProc) waitLines(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for strings.Count(m.stdout.String(), "\n") < n {
		select {
		case <-m.done:
			t.Fatalf("mpm-monitor exited (%v) with %d lines, want %d; stderr:\n%s", m.err, strings.Count(m.stdout.String(), "\n"), n, m.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out with %d lines, want %d; stderr:\n%s", strings.Count(m.stdout.String(), "\n"), n, m.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// record is the part of an NDJSON line the tests check.
type record struct {
	Seq       uint64 `json:"seq"`
	SessionID string `json:"session_id"`
	Event     string `json:"event"`
	Tool      string `json:"tool"`
	Payload   struct {
		N int `json:"n"`
	} `json:"payload"`
}

// parse decodes NDJSON, failing on any line that is not one JSON object.
func parse(t *testing.T, out string) []record {
	t.Helper()
	var recs []record
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var r record
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		if err := dec.Decode(&r); err != nil || dec.More() {
			t.Fatalf("line is not one JSON object: %q (%v)", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

func seqsOf(recs []record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

func newClient(t testing.TB, d *testutil.Daemon) *client.Client {
	c, err := client.New(client.Config{Addr: d.Addr, DataDir: d.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func post(t testing.TB, c *client.Client, body string) uint64 {
	t.Helper()
	res, err := c.Post(context.Background(), []byte(body), client.PostOptions{})
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	return res.Seq
}

func ev(session, name, tool string, n int, extra string) string {
	s := fmt.Sprintf(`{"session_id":%q,"hook_event_name":%q,"n":%d`, session, name, n)
	if tool != "" {
		s += fmt.Sprintf(`,"tool_name":%q`, tool)
	}
	return s + extra + "}"
}
