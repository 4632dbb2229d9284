// Command fakewsd stands in for mpm-wsd in the supervisor's tests: it takes
// mpm-wsd's flags, serves a /healthz shaped like mpm-wsd's, logs hclog JSON
// lines, and misbehaves on request:
//
//	--mode normal       serve until SIGTERM/SIGINT, then exit 0
//	--mode crash        exit 1 at once (after a log line)
//	--mode exit0        exit 0 at once
//	--mode ignore-term  serve and ignore SIGTERM (only SIGKILL ends it)
//	--mode hang         listen but never answer /healthz
//	--mode unhealthy    answer /healthz with 503
//	--mode wrong-pid    answer /healthz with another pid
//	--mode degraded     answer /healthz ok with degraded and a store_error
//	--crash-first N     exit 1 on the first N starts (counted in a file in
//	                    the data dir), then behave as --mode says
//
// Exit codes follow mpm-wsd: 2 on bad flags, 3 when the address is in use.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func logJSON(level, msg string, kv ...any) {
	m := map[string]any{"@level": level, "@message": msg, "@module": "mpm-wsd", "@timestamp": time.Now().Format(time.RFC3339Nano)}
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	os.Stderr.Write(append(b, '\n'))
}

func main() {
	fs := flag.NewFlagSet("fakewsd", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8765", "")
	dataDir := fs.String("data-dir", "", "")
	fs.String("log-level", "info", "")
	fs.Bool("log-json", false, "")
	mode := fs.String("mode", "normal", "")
	crashFirst := fs.Int("crash-first", 0, "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	started := time.Now()
	if *crashFirst > 0 && *dataDir != "" {
		f := filepath.Join(*dataDir, "fakewsd-starts")
		b, _ := os.ReadFile(f)
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		n++
		os.MkdirAll(*dataDir, 0o700)
		os.WriteFile(f, []byte(strconv.Itoa(n)), 0o600)
		if n <= *crashFirst {
			logJSON("error", "crashing on purpose", "start", n)
			os.Exit(1)
		}
	}
	switch *mode {
	case "crash":
		logJSON("error", "crashing on purpose")
		os.Exit(1)
	case "exit0":
		fmt.Println("exiting at once")
		os.Exit(0)
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "address %s already in use: %v\n", *addr, err)
		os.Exit(3)
	}
	pid := os.Getpid()
	if *mode == "wrong-pid" {
		pid++
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if *mode == "hang" {
			<-r.Context().Done()
			return
		}
		code, ok := 200, true
		if *mode == "unhealthy" {
			code, ok = 503, false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		h := map[string]any{"ok": ok, "service": "mpm-wsd", "version": "fake", "pid": pid,
			"instance": "fake", "uptime_seconds": time.Since(started).Seconds(), "clients": 0, "last_seq": 0}
		if *mode == "degraded" {
			h["degraded"], h["store_error"] = true, "the event store cannot write: database or disk is full"
		}
		json.NewEncoder(w).Encode(h)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	fmt.Println("plain stdout line from fakewsd")
	logJSON("info", "listening", "addr", l.Addr().String(), "pid", os.Getpid())
	logJSON("debug", "debug detail")
	logJSON("warn", "a warning from the daemon")

	sig := make(chan os.Signal, 1)
	if *mode == "ignore-term" {
		signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
		select {}
	}
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	logJSON("info", "shutting down")
	srv.Close()
	if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		os.Exit(1)
	}
	os.Exit(0)
}
