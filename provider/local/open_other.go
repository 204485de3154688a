//go:build !unix

package local

import "os"

// openReadFlags opens a served file for reading.
const openReadFlags = os.O_RDONLY
