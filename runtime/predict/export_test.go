package predict

import (
	"encoding/binary"
	"hash/crc32"
)

// Reseal replaces b's last four bytes with the checksum of the rest, so
// that fuzzing reaches the decoder's checks behind the checksum.
func Reseal(b []byte) []byte {
	if len(b) < 4 {
		return b
	}
	out := append([]byte{}, b...)
	binary.LittleEndian.PutUint32(out[len(out)-4:], crc32.Checksum(out[:len(out)-4], crcTable))
	return out
}
