package spool

import "sync/atomic"

// The CRC32 instruction (SSE4.2; every x86-64 CPU since about 2009) does
// CRC-32C 8 bytes at a time: ~30–70 µs for 256 KiB, where the table loop
// takes ~0.3 ms. Asking the CPU whether it has it takes one CPUID, which a
// virtual machine traps: ~10 µs on the project's VM, what the table loop
// spends on ~14 KiB. So payloads below sse42Min take the table loop, and
// only a larger one asks (once per process).

// sse42Min is the payload size from which the CRC32 instruction is used.
const sse42Min = 16 << 10

func cpuHasSSE42() bool

func crc32cSSE42(crc uint32, p []byte) uint32

// sse42 is 0 before the first checksum, then 1 (available) or 2 (not).
var sse42 atomic.Uint32

func crc32c(p []byte) uint32 {
	if len(p) < sse42Min {
		return crc32cGeneric(p)
	}
	s := sse42.Load()
	if s == 0 {
		s = 2
		if cpuHasSSE42() {
			s = 1
		}
		sse42.Store(s)
	}
	if s == 1 {
		return crc32cSSE42(0, p)
	}
	return crc32cGeneric(p)
}
