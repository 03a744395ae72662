//go:build unix

package repair

import (
	"errors"
	"os"
	"syscall"
)

// processAlive reports whether pid names a running process on this host
// (signal 0 checks without signalling; EPERM means it runs as someone
// else). Our own pid counts as alive: its intents are in flight.
func processAlive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
