package lean

import _ "unsafe" // go:linkname

//go:linkname runtimeRand runtime.rand
func runtimeRand() uint64

// NewKey returns a fresh Idempotency-Key: 32 hex digits from the runtime's
// randomly seeded ChaCha8 generator, the one math/rand/v2's top-level
// functions use (unique, not secret: crypto/rand would cost start-up time
// for nothing).
func NewKey() string {
	const hex = "0123456789abcdef"
	var b [32]byte
	for half := 0; half < 2; half++ {
		v := runtimeRand()
		for i := 0; i < 16; i++ {
			b[half*16+i] = hex[v&0xf]
			v >>= 4
		}
	}
	return string(b[:])
}

// DebugLine is the line MPM_HOOK_DEBUG=1 makes mpm-hook write on stderr.
func DebugLine(outcome string, bytes int, via string, status int, err error, approval string) string {
	b := make([]byte, 0, 128)
	b = append(b, "mpm-hook: "...)
	b = append(b, outcome...)
	b = append(b, " bytes="...)
	b = AppendInt(b, int64(bytes))
	if via != "" {
		b = append(b, " via="...)
		b = append(b, via...)
	}
	if status != 0 {
		b = append(b, " status="...)
		b = AppendInt(b, int64(status))
	}
	if err != nil {
		b = append(b, " err="...)
		b = append(b, Quote(err.Error())...)
	}
	if approval != "" {
		b = append(b, " approval="...)
		b = append(b, approval...)
	}
	return string(append(b, '\n'))
}

// ParseDuration parses a Go duration ("300ms", "1.5s", "2m"), as
// time.ParseDuration does, into nanoseconds; ok is false for anything
// else, or a value past the int64 range.
func ParseDuration(s string) (d int64, ok bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, true
	}
	if s == "" {
		return 0, false
	}
	var total uint64
	for s != "" {
		// The integer part, then an optional fraction.
		var v uint64
		i := 0
		over := false
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if v > (1<<63)/10 {
				over = true
			}
			v = v*10 + uint64(s[i]-'0')
			if v > 1<<63 {
				over = true
			}
			i++
		}
		if over {
			return 0, false
		}
		pre := i != 0
		s = s[i:]
		var f, scale uint64 = 0, 1
		post := false
		if s != "" && s[0] == '.' {
			s = s[1:]
			j := 0
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				if scale <= (1<<63)/10 { // further digits are below a nanosecond's resolution
					f = f*10 + uint64(s[j]-'0')
					scale *= 10
				}
				j++
			}
			post = j != 0
			s = s[j:]
		}
		if !pre && !post {
			return 0, false
		}
		j := 0
		for j < len(s) && s[j] != '.' && (s[j] < '0' || s[j] > '9') {
			j++
		}
		var unit uint64
		switch s[:j] {
		case "ns":
			unit = 1
		case "us", "µs", "μs":
			unit = 1e3
		case "ms":
			unit = 1e6
		case "s":
			unit = 1e9
		case "m":
			unit = 60e9
		case "h":
			unit = 3600e9
		default:
			return 0, false
		}
		s = s[j:]
		if v > (1<<63)/unit {
			return 0, false
		}
		v *= unit
		if f > 0 {
			v += uint64(float64(f) * (float64(unit) / float64(scale)))
			if v > 1<<63 {
				return 0, false
			}
		}
		total += v
		if total > 1<<63 {
			return 0, false
		}
	}
	if total == 1<<63 && !neg {
		return 0, false
	}
	if neg {
		return -int64(total), true
	}
	return int64(total), true
}
