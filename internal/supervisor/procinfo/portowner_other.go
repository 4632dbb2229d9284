//go:build !linux

package procinfo

// PortOwner is not known on this platform; it returns 0 and ErrUnsupported.
func PortOwner(addr string) (int, error) { return 0, ErrUnsupported }
