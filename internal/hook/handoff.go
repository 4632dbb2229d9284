package hook

import (
	"io"
	"os"

	"github.com/mpm-dev/mpm/internal/hook/lean"
	"github.com/mpm-dev/mpm/internal/spool"
)

// Handoff carries out the hidden arguments with which mpm-hook on Linux
// (internal/hook/lean, which links neither this package nor os) hands
// mpm-hookctl what it leaves to the portable path; handled is false for
// any other arguments.
//
//   - lean.ForwardArg: the whole forwarding path (Forward), stdin
//     untouched: a PermissionRequest that waits for a person's decision.
//   - lean.SpoolArg dir: one spool record on stdin, appended to the spool
//     in dir with spool.Append (sealing the live segment, the bound, a
//     held lock); on failure the error's text goes to stdout, exit 1.
func Handoff(args []string) (code int, handled bool) {
	switch {
	case len(args) == 1 && args[0] == lean.ForwardArg:
		func() {
			defer func() { recover() }()
			Forward(ConfigFromEnv())
		}()
		return 0, true
	case len(args) == 2 && args[0] == lean.SpoolArg:
		if err := appendRecord(args[1], os.Stdin); err != nil {
			os.Stdout.WriteString("spool: " + err.Error() + "\n")
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// handoffError says the record handed over is not one whole record.
type handoffError string

func (e handoffError) Error() string { return string(e) }

// appendRecord reads one spool record from r and appends it to the spool
// in dir.
func appendRecord(dir string, r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, MaxInput+4096))
	if err != nil {
		return err
	}
	var rec spool.Record
	n := 0
	damaged, _ := spool.ReadRecords(data, func(r spool.Record, _ int) error {
		rec = r
		n++
		return nil
	})
	if n != 1 || damaged != 0 {
		return handoffError("mpm-hook handed over no single whole record")
	}
	return spool.Append(dir, rec)
}
