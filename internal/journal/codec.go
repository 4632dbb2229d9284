package journal

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Payload codecs: events.payload_codec says how a row's payload column is
// stored. A codec number, once used, keeps its meaning forever: a new
// dictionary or algorithm gets a new number, and every number ever written
// stays decodable, so an old row reads back as it was stored.
const (
	// codecRaw: the payload column is the hook JSON byte for byte (every
	// row written before layout 4, and payloads that do not shrink).
	codecRaw = 0
	// codecZstdV1: one zstd frame compressed with the embedded dictionary
	// hookdict/v1.zdict (trained on hook JSON shapes; dictionary id
	// hookDictV1ID).
	codecZstdV1 = 1
	// codecBlockV1 (layout 6): the payload is part of a block, several
	// consecutive events' payloads compressed together into one zstd frame
	// with the same dictionary (blocks.go); the payload column holds the
	// block's id and the payload's offset and length in the decoded block
	// (blockRef).
	codecBlockV1 = 2
)

// hookDictV1ID is the id written in hookdict/v1.zdict and in every frame
// compressed with it.
const hookDictV1ID = 0x6d706d01 // "mpm" 1

// hookDictV1 is the zstd dictionary of codecZstdV1. It is data, not code:
// it must never change once released (regenerate with MPM_WRITE_DICT=1 go
// test -run TestWriteHookDict ./internal/journal only for a new codec
// number, keeping the old file).
//
//go:embed hookdict/v1.zdict
var hookDictV1 []byte

// maxDecodedPayload bounds what one stored payload may decode to: far
// above the daemon's --max-body, so only a damaged row reaches it.
const maxDecodedPayload = 256 << 20

// storeRaw turns compression off for new rows (MPM_JOURNAL_RAW=1): a
// knob for benchmarks that compare ingest with and without it, and for
// diagnosis. Rows are read whatever it says.
var storeRaw = os.Getenv("MPM_JOURNAL_RAW") == "1"

// minCompress is the smallest payload worth compressing: below it the
// frame header eats the gain.
const minCompress = 64

var (
	codecOnce sync.Once
	codecErr  error
	// enc and dec are safe for concurrent EncodeAll/DecodeAll: each keeps
	// its own pool of encoder/decoder states (sized to GOMAXPROCS), so no
	// call allocates a new one.
	enc *zstd.Encoder
	dec *zstd.Decoder
	// bdec decodes blocks (blocks.go), with a tighter bound on what one
	// may decode to: a damaged block cannot make a read allocate more.
	bdec *zstd.Decoder
)

// maxDecodedBlock bounds what a stored block may decode to: far above
// blockMaxBytes, so only a damaged block reaches it.
const maxDecodedBlock = 16 << 20

func initCodecs() error {
	codecOnce.Do(func() {
		enc, codecErr = zstd.NewWriter(nil,
			zstd.WithEncoderDict(hookDictV1),
			zstd.WithEncoderLevel(zstd.SpeedFastest), // with the dictionary within 3% of SpeedDefault's ratio, at half its cost
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithEncoderCRC(false), // the payload is JSON; SQLite pages carry no checksums either
			zstd.WithZeroFrames(true))
		if codecErr != nil {
			codecErr = fmt.Errorf("journal: payload encoder: %w", codecErr)
			return
		}
		if dec, codecErr = newDecoder(maxDecodedPayload, "payload"); codecErr != nil {
			return
		}
		bdec, codecErr = newDecoder(maxDecodedBlock, "block")
	})
	return codecErr
}

// newDecoder is a decoder with the hook dictionary whose output is bounded
// by maxMemory (what names it in an error).
func newDecoder(maxMemory uint64, what string) (*zstd.Decoder, error) {
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderDicts(hookDictV1),
		zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithDecoderMaxMemory(maxMemory))
	if err != nil {
		return nil, fmt.Errorf("journal: %s decoder: %w", what, err)
	}
	return d, nil
}

// encodePayload returns the stored form of payload and its codec: zstd with
// the hook dictionary, or the payload itself when that does not make it
// smaller. It is called in the commit batch (Append), never on the hook's
// request path.
func encodePayload(payload []byte) ([]byte, int64) {
	if len(payload) < minCompress || storeRaw || initCodecs() != nil {
		return payload, codecRaw
	}
	out := enc.EncodeAll(payload, make([]byte, 0, len(payload)/3+32))
	if len(out) >= len(payload) {
		return payload, codecRaw
	}
	return out, codecZstdV1
}

// decodePayload returns the hook JSON a row stores with codec.
func decodePayload(stored []byte, codec int64) ([]byte, error) {
	switch codec {
	case codecRaw:
		return stored, nil
	case codecZstdV1:
		if err := initCodecs(); err != nil {
			return nil, err
		}
		out, err := dec.DecodeAll(stored, nil)
		if err != nil {
			return nil, fmt.Errorf("journal: stored payload does not decompress (a damaged row): %w", err)
		}
		return out, nil
	case codecBlockV1:
		return nil, errors.New("journal: a block payload read without its block (a bug: use Journal.rowEvent)")
	default:
		return nil, fmt.Errorf("journal: payload codec %d is unknown (written by a newer mpm?): upgrade mpm", codec)
	}
}
