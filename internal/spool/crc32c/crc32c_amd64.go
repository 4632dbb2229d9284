package crc32c

import "sync/atomic"

// The CRC32 instruction (SSE4.2; every x86-64 CPU since about 2009) does
// CRC-32C 8 bytes at a time, one result every three cycles in one chain
// but one per cycle over three independent chains: so a long payload runs
// as three streams side by side, joined by a constant shift table
// (crc32c_table.go), as hash/crc32 does with tables it builds at first use.
// 256 KiB take ~15 µs that way, ~40 µs in one chain, ~0.3 ms in the table
// loop. Asking the CPU whether it has it takes one CPUID, which a
// virtual machine traps: ~10 µs on the project's VM, what the table loop
// spends on ~14 KiB. So payloads below sse42Min take the table loop, and
// only a larger one asks (once per process).

// sse42Min is the payload size from which the CRC32 instruction is used.
const sse42Min = 16 << 10

func cpuHasSSE42() bool

func crc32cSSE42(crc uint32, p []byte) uint32

// crc32cTriple runs the CRC32 instruction over p[:k], p[k:2k] and
// p[2k:3k] side by side, rounds 24-byte steps each (k = 24*rounds), from
// states crc, 0 and 0 (not inverted), and returns the three states.
func crc32cTriple(crc uint32, p []byte, k, rounds int) (a, b, c uint32)

// sse42 is 0 before the first checksum, then 1 (available) or 2 (not).
var sse42 atomic.Uint32

func update(crc uint32, p []byte) uint32 {
	if len(p) < sse42Min {
		return updateGeneric(crc, p)
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
		return crc32cSSE42Long(crc, p)
	}
	return updateGeneric(crc, p)
}

// crc32cSSE42Long is Update with the CRC32 instruction, three streams at a
// time.
func crc32cSSE42Long(crc uint32, p []byte) uint32 {
	state := ^crc
	for len(p) >= 3*tripleBlock {
		a, b, c := crc32cTriple(state, p, tripleBlock, tripleBlock/24)
		state = shift(shift(a)^b) ^ c
		p = p[3*tripleBlock:]
	}
	return crc32cSSE42(^state, p)
}
