// Package crc32c is the spool record's checksum, CRC-32C (Castagnoli),
// without hash/crc32: it imports nothing that costs start-up time, so that
// mpm-hook's Linux path (internal/hook/lean) can link it.
package crc32c

// Checksum returns the CRC-32C of p, as hash/crc32 computes it with the
// Castagnoli table.
func Checksum(p []byte) uint32 { return crc32c(p) }

// Update returns the CRC-32C of the bytes whose CRC-32C is crc followed by
// p, as hash/crc32's Update does: Update(Checksum(a), b) is Checksum(a+b).
func Update(crc uint32, p []byte) uint32 { return update(crc, p) }

// crc32c is the CRC-32C of p.
func crc32c(p []byte) uint32 { return update(0, p) }

// tripleBlock is the length of each of the three streams the amd64 loop
// runs side by side (a multiple of its 24-byte step): 1344, as hash/crc32's
// castagnoliK2.
const tripleBlock = 1344

// shift moves CRC state c (not inverted) past tripleBlock zero bytes.
func shift(c uint32) uint32 {
	t := &crc32cShift
	return t[0][c&15] ^ t[1][c>>4&15] ^ t[2][c>>8&15] ^ t[3][c>>12&15] ^
		t[4][c>>16&15] ^ t[5][c>>20&15] ^ t[6][c>>24&15] ^ t[7][c>>28]
}

// crc32cGeneric returns the CRC-32C (Castagnoli) of p, as
// crc32.Checksum(p, crc32.MakeTable(crc32.Castagnoli)) does, by slicing-by-8
// over a constant table (crc32c_table.go).
//
// It exists for mpm-hook's start-up: on amd64, hash/crc32 builds its
// SSE4.2 tables (about 1.4 MB of CRC work) on the first Castagnoli use,
// which cost a spooling hook run ~0.2 ms, more than the rest of the append;
// and its package init builds the IEEE table whether used or not. This
// loop runs at about 1–2 GB/s: 1 KiB in under a microsecond, 256 KiB in
// ~0.15 ms, with no set-up at all.
func crc32cGeneric(p []byte) uint32 { return updateGeneric(0, p) }

// updateGeneric is Update by the table loop.
func updateGeneric(crc uint32, p []byte) uint32 {
	t := &crc32cTable
	crc = ^crc
	for len(p) >= 8 {
		// Little-endian loads, written out (the compiler makes each one
		// load): encoding/binary would link reflect into mpm-hook.
		crc ^= uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
		hi := uint32(p[4]) | uint32(p[5])<<8 | uint32(p[6])<<16 | uint32(p[7])<<24
		crc = t[7][crc&0xff] ^ t[6][crc>>8&0xff] ^ t[5][crc>>16&0xff] ^ t[4][crc>>24] ^
			t[3][hi&0xff] ^ t[2][hi>>8&0xff] ^ t[1][hi>>16&0xff] ^ t[0][hi>>24]
		p = p[8:]
	}
	for _, c := range p {
		crc = t[0][byte(crc)^c] ^ crc>>8
	}
	return ^crc
}
