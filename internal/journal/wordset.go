package journal

import "sync"

// An index of one column (searchNone, detail=none) records which events
// hold a word, not where nor how often: the second "err" of an output
// costs FTS5 its tokenizing and a hash look-up (half the words of a
// typical output repeat one before it) and changes nothing in the index.
// appendWordsOnce gives FTS5 each word of the long fields once.
//
// It only ever rewrites what FTS5's unicode61 tokenizer is certain to
// read the same way: runs of ASCII letters and digits between ASCII
// separators. FTS5 folds their case and nothing else, and every other
// ASCII character separates words, so such a run repeating an earlier one
// but for case is dropped, and a run of ASCII separators becomes one
// space. A run holding any non-ASCII byte (a word with an accent, CJK,
// a private-use mark) is kept as it is, never dropped: where Go's and
// unicode61's Unicode tables disagree, FTS5 still cuts it as it always did.

// wordSet is the set of ASCII words a document has given the index so
// far: an open-addressing table of spans of the text being written,
// emptied for each document by moving to the next generation.
type wordSet struct {
	// slots has a power-of-two length; a slot of another generation is
	// free.
	slots []wordSlot
	// gen is the current document's generation.
	gen uint32
	// n is how many slots gen uses.
	n int
}

// wordSlot is one word of the set: its span in the text, its hash.
type wordSlot struct {
	gen, hash uint32
	off, len  int32
}

// reset empties the set for the next document.
func (s *wordSet) reset() {
	s.gen++
	s.n = 0
	if s.gen == 0 { // wrapped: old generations would look current
		clear(s.slots)
		s.gen = 1
	}
	if s.slots == nil {
		s.slots = make([]wordSlot, 256)
	}
}

// seen reports whether the word w (ASCII letters and digits, hash h of
// it lowercased) equals a word of the set but for case; when not, it adds
// w as the len(w) bytes that the caller appends to text next.
func (s *wordSet) seen(text []byte, w string, h uint32) bool {
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	mask := uint32(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := &s.slots[i]
		if sl.gen != s.gen {
			*sl = wordSlot{gen: s.gen, hash: h, off: int32(len(text)), len: int32(len(w))}
			s.n++
			return false
		}
		if sl.hash == h && int(sl.len) == len(w) {
			if old := text[sl.off : int(sl.off)+len(w)]; string(old) == w || equalFoldASCII(old, w) {
				return true
			}
		}
	}
}

// grow doubles the table, keeping the current generation's words.
func (s *wordSet) grow() {
	old := s.slots
	s.slots = make([]wordSlot, 2*len(old))
	mask := uint32(len(s.slots) - 1)
	for _, sl := range old {
		if sl.gen != s.gen {
			continue
		}
		i := sl.hash & mask
		for s.slots[i].gen == s.gen {
			i = (i + 1) & mask
		}
		s.slots[i] = sl
	}
}

// equalFoldASCII reports whether a and b, ASCII letters and digits of one
// length, are equal but for case.
func equalFoldASCII(a []byte, b string) bool {
	for i := range a {
		if a[i]|0x20 != b[i]|0x20 { // digits have 0x20 set already
			return false
		}
	}
	return true
}

// asciiClass classifies bytes for appendWordsOnce: 1 an ASCII letter or
// digit, 2 a byte of a non-ASCII character, 0 an ASCII separator.
var asciiClass = func() (c [256]uint8) {
	for i := range c {
		switch {
		case i >= 0x80:
			c[i] = 2
		case isASCIIAlnum(byte(i)):
			c[i] = 1
		}
	}
	return c
}()

// appendWordsOnce appends s to dst for the index, each run of ASCII
// letters and digits that set has seen (but for case) left out, and the
// runs kept separated by one space; set remembers the new ones.
func appendWordsOnce(dst []byte, s string, set *wordSet) []byte {
	for i := 0; i < len(s); {
		for i < len(s) && asciiClass[s[i]] == 0 {
			i++
		}
		start, classes := i, uint8(0)
		for i < len(s) {
			c := asciiClass[s[i]]
			if c == 0 {
				break
			}
			classes |= c
			i++
		}
		if start == i {
			break
		}
		w := s[start:i]
		if classes == 1 && set.seen(dst, w, foldHash(w)) {
			continue
		}
		dst = append(dst, w...)
		dst = append(dst, ' ')
	}
	return dst
}

// foldHash hashes w (not empty: ASCII letters and digits), lowercased,
// eight bytes at a time (OR 0x20 lowercases a letter, keeps a digit); the
// last eight, or fewer, are read overlapping the bytes before them (the
// length is hashed too).
func foldHash(w string) uint32 {
	const fold = 0x2020202020202020
	n := len(w)
	h := uint64(n) * 0x9e3779b97f4a7c15
	for s := w; len(s) > 8; s = s[8:] {
		h = (h ^ (load64(s) | fold)) * 0xbf58476d1ce4e5b9
		h ^= h >> 31
	}
	var x uint64
	switch {
	case n >= 8:
		x = load64(w[n-8:])
	case n >= 4:
		x = uint64(load32(w)) | uint64(load32(w[n-4:]))<<32
	default:
		x = uint64(w[0]) | uint64(w[n/2])<<8 | uint64(w[n-1])<<16
	}
	h = (h ^ (x | fold)) * 0x94d049bb133111eb
	h ^= h >> 29
	return uint32(h ^ h>>32)
}

// load64 reads s's first eight bytes, little endian.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// load32 reads s's first four bytes, little endian.
func load32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// indexScratch is what indexValues reuses from one document to the next.
type indexScratch struct {
	buf   []byte
	words wordSet
}

var indexScratchPool = sync.Pool{New: func() any { return new(indexScratch) }}
