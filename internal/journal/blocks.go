package journal

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/mpm-dev/mpm/internal/event"
)

// Block compression (layout 6). The committer compresses the payloads of
// a committed batch together: up to blockMaxEvents consecutive events, or
// blockMaxBytes of payload, go into one zstd frame with the hook
// dictionary (one row of the blocks table), so the dictionary is loaded
// once per block rather than once per event (~10 us an event) and the
// events share one compression window (the same session ids, paths and
// file text recur from event to event: 0.258 of the raw bytes for blocks
// of 64 corpus events against 0.300 one frame each). Each event's row
// keeps payload_codec codecBlockV1 and, in its payload column, a blockRef:
// the block's id (its first event's seq), and the payload's offset and
// length in the decoded block. A batch of one event (an idle stream, when
// the committer did not gather more: ingestlog.go) keeps a frame of its
// own (codecZstdV1).
//
// A read decodes the whole block of an event; the decoded blocks last
// used are kept (blockCache), so reading consecutive events decodes each
// block once, and the committer puts each block it writes there as it is
// (the live tail is read without decoding anything). Retention deletes a
// block with its last event. An event counts against --retain-bytes its
// share of the block's bytes, in proportion to its payload, so the
// events' sizes add up to what their blocks take.
//
//	blocks   id INTEGER PRIMARY KEY (the seq of its first event), last (the
//	         seq of its last), data (one zstd frame with hookdict/v1).

// Variables for tests.
var (
	// blockMaxEvents and blockMaxBytes bound a block: more events per
	// block compress better but make a read of one event decode more.
	// 128 (was 64 at layout 6): the file 0.341-0.347 of the raw payloads
	// instead of 0.349-0.353 (storage benchmark); search at 1M events
	// p99 123-129 ms instead of ~100 (the decoding of the candidates'
	// blocks is most of a search's time).
	blockMaxEvents = 128
	blockMaxBytes  = 256 << 10
	// blockCacheSize is how many decoded blocks are kept for reads.
	blockCacheSize = 16
)

// blocksSchema is the blocks table (layout 6).
const blocksSchema = `
CREATE TABLE IF NOT EXISTS blocks(
	id INTEGER PRIMARY KEY,
	last INTEGER NOT NULL,
	data BLOB NOT NULL
);`

// errBlockGone: an event's block is not in the file, because retention
// deleted it (and the event) after the event's row was read.
var errBlockGone = errors.New("journal: the event's block was deleted by retention")

// appendBlockRef appends the reference to payload [off, off+n) of block id.
func appendBlockRef(dst []byte, id int64, off, n int) []byte {
	dst = binary.AppendUvarint(dst, uint64(id))
	dst = binary.AppendUvarint(dst, uint64(off))
	return binary.AppendUvarint(dst, uint64(n))
}

// parseBlockRef reads a blockRef.
func parseBlockRef(b []byte) (id int64, off, n int, err error) {
	var v [3]uint64
	for i := range v {
		x, k := binary.Uvarint(b)
		if k <= 0 {
			return 0, 0, 0, errors.New("journal: a block payload's reference is damaged")
		}
		v[i], b = x, b[k:]
	}
	if len(b) != 0 || v[0] == 0 || v[0] > 1<<62 || v[1] > maxDecodedPayload || v[2] > maxDecodedPayload {
		return 0, 0, 0, errors.New("journal: a block payload's reference is damaged")
	}
	return int64(v[0]), int(v[1]), int(v[2]), nil
}

// packBlock concatenates payloads and compresses them into one frame: the
// frame and the concatenation (whose [sum of the lengths before i, + len)
// is payload i). It fails only when the codec cannot be set up.
func packBlock(payloads [][]byte) (frame, raw []byte, err error) {
	if err := initCodecs(); err != nil {
		return nil, nil, err
	}
	total := 0
	for _, p := range payloads {
		total += len(p)
	}
	raw = make([]byte, 0, total)
	for _, p := range payloads {
		raw = append(raw, p...)
	}
	return enc.EncodeAll(raw, make([]byte, 0, total/3+64)), raw, nil
}

// unpackBlock decodes a block's frame.
func unpackBlock(frame []byte) ([]byte, error) {
	if err := initCodecs(); err != nil {
		return nil, err
	}
	raw, err := bdec.DecodeAll(frame, nil)
	if err != nil {
		return nil, fmt.Errorf("journal: a stored block does not decompress (a damaged row): %w", err)
	}
	return raw, nil
}

// payloadIn returns payload [off, off+n) of a decoded block, a copy.
func payloadIn(raw []byte, off, n int) ([]byte, error) {
	if off < 0 || n < 0 || off > len(raw) || n > len(raw)-off {
		return nil, fmt.Errorf("journal: a block payload's reference (%d+%d) is outside its block (%d bytes): a damaged row", off, n, len(raw))
	}
	return bytes.Clone(raw[off : off+n]), nil
}

// storedBlock is one row of the blocks table.
type storedBlock struct {
	id, last int64
	data     []byte
	raw      []byte // decoded, for the cache
}

// runLen is how many events from the start of evs (at least one) go into
// one block, up to blockMaxEvents and blockMaxBytes of payload, and their
// payload bytes.
func runLen(evs []*event.Event) (n, total int) {
	for n < len(evs) && n < blockMaxEvents && (n == 0 || total+len(evs[n].Payload) <= blockMaxBytes) {
		total += len(evs[n].Payload)
		n++
	}
	return n, total
}

// rowsOf returns the rows that store evs (consecutive seqs), their sizes
// (what each counts against --retain-bytes) and the blocks they point
// into. Runs of at least two events are compressed together, up to
// blockMaxEvents and blockMaxBytes a block; a lone event, or a run whose
// block would not be smaller than its payloads, gets a frame each
// (rowOf).
func rowsOf(evs []*event.Event) ([]eventRow, []int64, []storedBlock) {
	rows := make([]eventRow, 0, len(evs))
	sizes := make([]int64, 0, len(evs))
	var blocks []storedBlock
	single := func(ev *event.Event) {
		r := rowOf(ev)
		rows = append(rows, r)
		sizes = append(sizes, rowSize(&r))
	}
	for i := 0; i < len(evs); {
		n, total := runLen(evs[i:])
		run := evs[i : i+n]
		i += n
		if n < 2 || storeRaw || total < minCompress {
			for _, ev := range run {
				single(ev)
			}
			continue
		}
		payloads := make([][]byte, n)
		for k, ev := range run {
			payloads[k] = ev.Payload
		}
		frame, raw, err := packBlock(payloads)
		if err != nil || len(frame) >= total {
			for _, ev := range run {
				single(ev)
			}
			continue
		}
		id := int64(run[0].Seq)
		blocks = append(blocks, storedBlock{id: id, last: int64(run[n-1].Seq), data: frame, raw: raw})
		off, shared := 0, 0
		for k, ev := range run {
			r := rowMeta(ev)
			r.Payload, r.PayloadCodec = appendBlockRef(nil, id, off, len(ev.Payload)), codecBlockV1
			off += len(ev.Payload)
			// the event's share of the frame, in proportion to its payload;
			// the last takes what rounding left, so the shares add up
			share := len(frame) - shared
			if k < n-1 {
				share = int(int64(len(frame)) * int64(len(ev.Payload)) / int64(total))
			}
			shared += share
			rows = append(rows, r)
			sizes = append(sizes, rowSize(&r)+int64(share))
		}
	}
	return rows, sizes, blocks
}

// blockCache holds the decoded blocks last used, most recent last.
type blockCache struct {
	mu  sync.Mutex
	ids []int64
	raw [][]byte
}

func (c *blockCache) get(id int64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.ids) - 1; i >= 0; i-- {
		if c.ids[i] == id {
			raw := c.raw[i]
			if i != len(c.ids)-1 { // move to the back
				copy(c.ids[i:], c.ids[i+1:])
				copy(c.raw[i:], c.raw[i+1:])
				c.ids[len(c.ids)-1], c.raw[len(c.raw)-1] = id, raw
			}
			return raw, true
		}
	}
	return nil, false
}

func (c *blockCache) put(id int64, raw []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, have := range c.ids {
		if have == id {
			return
		}
	}
	if len(c.ids) >= blockCacheSize {
		copy(c.ids, c.ids[1:])
		copy(c.raw, c.raw[1:])
		c.ids, c.raw = c.ids[:len(c.ids)-1], c.raw[:len(c.raw)-1]
	}
	c.ids = append(c.ids, id)
	c.raw = append(c.raw, raw)
}

// blockPayload returns the payload a codecBlockV1 row refers to, decoding
// its block unless it is cached; errBlockGone when retention deleted the
// block after the row was read.
func (j *Journal) blockPayload(ref []byte) ([]byte, error) {
	id, off, n, err := parseBlockRef(ref)
	if err != nil {
		return nil, err
	}
	raw, ok := j.blockCache.get(id)
	if !ok {
		var frame []byte
		switch err := j.rd.block.QueryRow(id).Scan(&frame); {
		case errors.Is(err, sql.ErrNoRows):
			return nil, errBlockGone
		case err != nil:
			return nil, fmt.Errorf("journal: read block %d: %w", id, err)
		}
		if raw, err = unpackBlock(frame); err != nil {
			return nil, fmt.Errorf("block %d: %w", id, err)
		}
		j.blockCache.put(id, raw)
	}
	return payloadIn(raw, off, n)
}

// rowEvent is the event r stores, its payload read from its block when it
// is in one.
func (j *Journal) rowEvent(r *eventRow) (*event.Event, error) {
	if err := j.nameRow(r); err != nil {
		return nil, err
	}
	if r.PayloadCodec == codecBlockV1 {
		p, err := j.blockPayload(r.Payload)
		if err != nil {
			if errors.Is(err, errBlockGone) {
				return nil, err
			}
			return nil, fmt.Errorf("event %d: %w", r.Seq, err)
		}
		r.Payload, r.PayloadCodec = p, codecRaw
	}
	return r.event()
}
