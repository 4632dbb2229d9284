//go:build !windows

package svc

const isWindows = false
