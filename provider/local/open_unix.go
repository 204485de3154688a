//go:build unix

package local

import (
	"os"
	"syscall"
)

// openReadFlags opens a served file for reading without blocking on a FIFO;
// reads of a regular file ignore the flag.
const openReadFlags = os.O_RDONLY | syscall.O_NONBLOCK
