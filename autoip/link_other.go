//go:build !linux

package autoip

// openLink fails: raw ARP and address configuration are Linux only.
func openLink(*Agent) (link, error) { return nil, ErrUnsupported }
