package journal

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// walFrame is one frame for buildWAL.
type walFrame struct {
	pgno, commit uint32
	// stale gives the frame another log's salt, as frames left from
	// before the log was restarted have.
	stale bool
	// damage flips a byte of the page after the checksum was computed.
	damage bool
}

// buildWAL writes a WAL file in SQLite's format (big-endian checksums,
// 512-byte pages) holding frames.
func buildWAL(frames []walFrame) []byte {
	be := binary.BigEndian
	const pageSize = 512
	hdr := make([]byte, walHeaderSize)
	be.PutUint32(hdr[0:], 0x377f0683)
	be.PutUint32(hdr[4:], 3007000)
	be.PutUint32(hdr[8:], pageSize)
	be.PutUint32(hdr[16:], 0x11111111)
	be.PutUint32(hdr[20:], 0x22222222)
	s0, s1 := walChecksum(be, hdr[:24], 0, 0)
	be.PutUint32(hdr[24:], s0)
	be.PutUint32(hdr[28:], s1)
	out := hdr
	for i, fr := range frames {
		b := make([]byte, walFrameHeaderSize+pageSize)
		be.PutUint32(b[0:], fr.pgno)
		be.PutUint32(b[4:], fr.commit)
		copy(b[8:16], hdr[16:24])
		if fr.stale {
			be.PutUint32(b[8:], 0x11111110)
		}
		for k := walFrameHeaderSize; k < len(b); k++ {
			b[k] = byte(i*7 + k)
		}
		c0, c1 := walChecksum(be, b[:8], s0, s1)
		c0, c1 = walChecksum(be, b[walFrameHeaderSize:], c0, c1)
		be.PutUint32(b[16:], c0)
		be.PutUint32(b[20:], c1)
		if !fr.stale && !fr.damage {
			s0, s1 = c0, c1
		}
		if fr.damage {
			b[walFrameHeaderSize+10] ^= 0xff
		}
		out = append(out, b...)
	}
	return out
}

func TestScanWAL(t *testing.T) {
	ok := walFrame{pgno: 2}
	commit := walFrame{pgno: 3, commit: 5}
	for _, tc := range []struct {
		name   string
		frames []walFrame
		want   walScan
	}{
		{"intact", []walFrame{ok, commit, ok, commit}, walScan{frames: 4, badFrame: -1}},
		{"uncommitted tail (a transaction cut off by kill -9)", []walFrame{ok, commit, ok, ok}, walScan{frames: 2, badFrame: -1}},
		{"stale frames of an older log after the end", []walFrame{ok, commit, {pgno: 2, commit: 9, stale: true}}, walScan{frames: 2, badFrame: 2}},
		{"torn last frame of an uncommitted transaction", []walFrame{ok, commit, ok, {pgno: 4, damage: true}}, walScan{frames: 2, badFrame: 3}},
		{"damaged frame with commits after it", []walFrame{ok, commit, {pgno: 2, damage: true}, commit, ok, commit}, walScan{frames: 2, badFrame: 2, lostCommits: 2}},
		{"first frame damaged", []walFrame{{pgno: 2, damage: true}, commit}, walScan{frames: 0, badFrame: 0, lostCommits: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "journal.db-wal")
			os.WriteFile(p, buildWAL(tc.frames), 0o600)
			got, err := scanWAL(p)
			if err != nil || got != tc.want {
				t.Fatalf("scanWAL = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	p := filepath.Join(t.TempDir(), "journal.db-wal")
	b := buildWAL([]walFrame{ok, commit})
	b[30] ^= 1 // header checksum
	os.WriteFile(p, b, 0o600)
	if got, _ := scanWAL(p); !got.badHeader {
		t.Fatalf("damaged header scans as %+v", got)
	}
	if got, err := scanWAL(filepath.Join(t.TempDir(), "none-wal")); err != nil || got.badFrame != -1 || got.badHeader {
		t.Fatalf("missing WAL: %+v %v", got, err)
	}
}

// FuzzScanWAL: whatever the -wal file holds, scanWAL does not panic and
// reports lost commits only after a damaged frame.
func FuzzScanWAL(f *testing.F) {
	f.Add([]byte{})
	f.Add(buildWAL([]walFrame{{pgno: 1, commit: 1}}))
	f.Add(buildWAL([]walFrame{{pgno: 1}, {pgno: 2, damage: true}, {pgno: 3, commit: 3}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := scanWALFrom(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if sc.lostCommits > 0 && (sc.badFrame < 0 || sc.badHeader) {
			t.Fatalf("lost commits without a damaged frame: %+v", sc)
		}
		if sc.badFrame >= 0 && sc.frames > sc.badFrame {
			t.Fatalf("frames used past the damaged one: %+v", sc)
		}
	})
}
