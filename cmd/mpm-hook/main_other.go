//go:build !linux

package main

import (
	"os"

	"github.com/mpm-dev/mpm/internal/hook"
)

func main() {
	if len(os.Args) > 1 {
		os.Exit(hook.RunCtl(os.Args[1:]))
	}
	if hook.StdinIsTerminal() {
		os.Stderr.WriteString(hook.AtTerminal)
		os.Exit(0)
	}
	forward()
}

// forward runs the hook path: exit 0 whatever happens.
func forward() {
	defer func() {
		recover()
		os.Exit(0)
	}()
	hook.Forward(hook.ConfigFromEnv())
}
