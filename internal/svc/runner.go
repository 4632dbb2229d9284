package svc

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kardianos/service"
)

// stopBound is how long a stop request may take before Run gives up
// waiting: inside Windows' stop-pending and launchd's 20 s.
const stopBound = 18 * time.Second

// Run calls fn with a context that is cancelled when the service manager
// (or a terminal: SIGTERM, SIGINT) asks the process to stop, and returns
// fn's error. On Windows under the Service Control Manager it goes through
// kardianos so that the SCM sees the service start and stop.
func Run(name string, fn func(ctx context.Context) error) error {
	if service.Platform() != "" && !service.Interactive() && isWindows {
		p := &program{fn: fn, done: make(chan error, 1)}
		sv, err := service.New(p, &service.Config{Name: name})
		if err != nil {
			return err
		}
		if err := sv.Run(); err != nil {
			return err
		}
		return p.err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return fn(ctx)
}

// program adapts fn to kardianos' Start/Stop.
type program struct {
	fn     func(context.Context) error
	cancel context.CancelFunc
	done   chan error
	err    error
}

func (p *program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() { p.done <- p.fn(ctx) }()
	return nil
}

func (p *program) Stop(service.Service) error {
	p.cancel()
	select {
	case p.err = <-p.done:
	case <-time.After(stopBound):
	}
	return nil
}
