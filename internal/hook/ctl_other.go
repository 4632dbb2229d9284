//go:build !unix

package hook

import "os"

// execCtl runs path with this process's stdin, stdout and stderr, waits for
// it and returns its exit code (Windows has no exec).
func execCtl(path string, argv, env []string) (int, error) {
	p, err := os.StartProcess(path, argv, &os.ProcAttr{Env: env, Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}})
	if err != nil {
		return 1, err
	}
	st, err := p.Wait()
	if err != nil {
		return 1, err
	}
	return st.ExitCode(), nil
}
