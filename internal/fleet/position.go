package fleet

import "github.com/mpm-dev/mpm/internal/store"

// positionStore is the part of a hub's store that keeps the hub's position
// in the stream (the journal): Append stores each event's StreamSeq with it.
type positionStore interface {
	// FleetPosition returns the stream id given to SetFleetStream and the
	// highest stream seq stored since.
	FleetPosition() (stream string, seq uint64, err error)
	// SetFleetStream records the stream id consumed; a different one than
	// stored resets the position to 0.
	SetFleetStream(stream string) error
}

// position is where a hub resumes: the journal's record, or, with the
// in-memory store (nothing outlives the process), a number in memory.
type position struct {
	ps positionStore
	// mem is the in-memory position (no journal) and its stream.
	mem       uint64
	memStream string
}

func positionOf(st store.Store) position {
	ps, _ := st.(positionStore)
	return position{ps: ps}
}

func (p *position) kind() string {
	if p.ps != nil {
		return "journal"
	}
	return "memory"
}

// load returns the stored stream seq for stream id, resetting it to 0
// when the stored position belongs to another stream (or none).
func (p *position) load(id string) (uint64, error) {
	if p.ps == nil {
		if p.memStream != id {
			p.memStream, p.mem = id, 0
		}
		return p.mem, nil
	}
	have, seq, err := p.ps.FleetPosition()
	if err != nil {
		return 0, err
	}
	if have == id {
		return seq, nil
	}
	return 0, p.ps.SetFleetStream(id)
}

// stored notes that the event at stream seq is stored (memory only: the
// journal stored it with the event).
func (p *position) stored(seq uint64) {
	if p.ps == nil {
		p.mem = seq
	}
}
