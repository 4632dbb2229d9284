package hook

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/jsonobj"
)

// FuzzScanAgreesWithParse: the hook and the daemon agree on what an event
// is. Whatever the daemon's parser accepts, the hook's scanner finds the
// end of (the whole object, nothing cut short) and its validator accepts,
// so the hook forwards or spools it; the validator accepts exactly the
// JSON objects in valid UTF-8 that encoding/json accepts.
func FuzzScanAgreesWithParse(f *testing.F) {
	for _, s := range []string{
		`{"session_id":"lower","Session_Id":"mixed","hook_event_name":"Stop"}`,
		`{"session_id":"a","hook_event_name":"X","tool_input":{"s":"}{\"]["}}`,
		`{"session\u005fid":"e","hook_event_name":"X","n":[1,-2.5e3,true,null]}`,
		" {\"a\":\"\xff\"} ", `[]`, `{`, `{"a":1}x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		trimmed := bytes.TrimSpace(in)
		isObject := json.Valid(in) && utf8.Valid(in) && len(trimmed) > 0 && trimmed[0] == '{'
		if got := jsonobj.Valid(in); got != isObject {
			t.Fatalf("jsonobj.Valid = %v, encoding/json says object = %v: %q", got, isObject, in)
		}
		s := newScanner()
		st := s.feed(in)
		if isObject && (st != scanDone || s.end != len(bytes.TrimRight(in, " \t\r\n"))) {
			t.Fatalf("scanner: status %v end %d, want the object's end %d: %q", st, s.end, len(bytes.TrimRight(in, " \t\r\n")), in)
		}
		if _, err := event.Parse(in, 0); err == nil && !isObject {
			t.Fatalf("the daemon accepts what the hook would not send: %q", in)
		}
	})
}
