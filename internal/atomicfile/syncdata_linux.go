package atomicfile

import (
	"os"
	"syscall"
)

// SyncData flushes f's data and the metadata needed to read it back with
// fdatasync(2), skipping its timestamps: an overwrite of blocks already
// written (an append log writing into zeros prepared ahead) then commits
// no file system journal, where fsync(2) would for the modification time.
func SyncData(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
