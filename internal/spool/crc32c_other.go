//go:build !amd64

package spool

func crc32c(p []byte) uint32 { return crc32cGeneric(p) }
