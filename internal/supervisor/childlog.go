package supervisor

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// maxLogLine bounds one buffered line of daemon output; longer lines are
// logged in pieces.
const maxLogLine = 64 << 10

// logWriter is the daemon's stdout or stderr: it cuts the stream into lines
// and logs each one. hclog JSON lines keep their level, message and
// fields; anything else is logged at info as it is.
type logWriter struct {
	// log is the manager's logger for the daemon (Named("wsd")).
	log hclog.Logger
	// stream is "stdout" or "stderr", added to plain lines.
	stream string

	mu  sync.Mutex
	buf []byte
}

// Write implements io.Writer; it never fails.
func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxLogLine - len(w.buf)
			if len(p) < room {
				w.buf = append(w.buf, p...)
				break
			}
			w.buf = append(w.buf, p[:room]...)
			p = p[room:]
			w.emit()
			continue
		}
		w.buf = append(w.buf, p[:i]...)
		p = p[i+1:]
		w.emit()
	}
	return n, nil
}

// Flush logs a final line that had no newline.
func (w *logWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit()
	}
}

func (w *logWriter) emit() {
	line := redactToken(strings.TrimRight(string(w.buf), "\r"))
	w.buf = w.buf[:0]
	if strings.TrimSpace(line) == "" {
		return
	}
	lvl, msg, args := parseLogLine(line)
	if lvl == hclog.NoLevel {
		w.log.Info(msg, "stream", w.stream)
		return
	}
	w.log.Log(lvl, msg, args...)
}

// parseLogLine decodes one hclog JSON line ("@level", "@message",
// "@module", extra key/values). For any other line it returns NoLevel and
// the line as the message.
func parseLogLine(line string) (hclog.Level, string, []any) {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "{") {
		return hclog.NoLevel, line, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(t), &m); err != nil {
		return hclog.NoLevel, line, nil
	}
	msg, ok := m["@message"].(string)
	if !ok {
		return hclog.NoLevel, line, nil
	}
	lvlName, _ := m["@level"].(string)
	lvl := hclog.LevelFromString(lvlName)
	if lvl == hclog.NoLevel || lvl == hclog.Off {
		lvl = hclog.Info
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if !strings.HasPrefix(k, "@") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var args []any
	// The logger is already named for the daemon: its root module adds
	// nothing (and would follow a URL in the message: "…: module=mpm-wsd").
	if mod, _ := m["@module"].(string); mod != "" && mod != ServiceName {
		args = append(args, "module", mod)
	}
	for _, k := range keys {
		args = append(args, k, m[k])
	}
	return lvl, msg, args
}

// redactToken hides the value of every "#token=" in line (a dashboard URL
// printed by an mpm-wsd that thought it had a terminal), so that the
// manager's log, which may go to the system journal, never holds it.
func redactToken(line string) string {
	const key = "#token="
	if !strings.Contains(line, key) {
		return line
	}
	var b strings.Builder
	for {
		i := strings.Index(line, key)
		if i < 0 {
			b.WriteString(line)
			return b.String()
		}
		b.WriteString(line[:i+len(key)])
		line = line[i+len(key):]
		j := strings.IndexAny(line, " \t\"'\\<>")
		if j < 0 {
			j = len(line)
		}
		if j > 0 {
			b.WriteString("REDACTED")
		}
		line = line[j:]
	}
}
