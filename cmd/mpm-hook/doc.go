// Command mpm-hook is what Claude Code runs for each hook event: with no
// arguments it forwards the JSON object on stdin to mpm-wsd (or spools it
// when the daemon does not answer), prints nothing (but a person's decision
// on a PermissionRequest installed with --approvals) and exits 0, always.
//
// Everything else (help, version, install, uninstall, status) is carried
// out by mpm-hookctl, installed beside it, so that this binary links
// nothing but the forwarding path: its start-up time is what every event
// costs (cmd/mpm-hook/deps_test.go pins its imports). On Linux it is
// internal/hook/lean, which links the syscall package and no os; elsewhere
// internal/hook.
package main
