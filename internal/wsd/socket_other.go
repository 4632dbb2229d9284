//go:build !unix

package wsd

import (
	"errors"
	"net"
)

func selfUID() int { return -1 }

// listenSocket: Windows keeps TCP only.
func listenSocket(path string) (net.Listener, error) {
	return nil, errors.ErrUnsupported
}

func peerUID(c net.Conn) (int, bool) { return 0, false }
