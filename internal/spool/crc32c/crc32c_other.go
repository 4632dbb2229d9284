//go:build !amd64

package crc32c

func crc32c(p []byte) uint32 { return crc32cGeneric(p) }
