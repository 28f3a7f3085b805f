package khqr

import (
	"crypto/md5"
	"encoding/hex"
)

// crcTables drive CRC-16/CCITT-FALSE (polynomial 0x1021) eight bytes at a
// time: crcTables[k][x] is the CRC contribution of byte x followed by k zero
// bytes, so the eight lookups of a step are independent (slicing-by-8).
var crcTables = func() (t [8][256]uint16) {
	for i := range t[0] {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[0][i] = c
	}
	for k := 1; k < 8; k++ {
		for i := range t[k] {
			c := t[k-1][i]
			t[k][i] = c<<8 ^ t[0][c>>8]
		}
	}
	return t
}()

// crc16 is CRC-16/CCITT-FALSE: init 0xFFFF, no reflection, no final xor.
func crc16[T string | []byte](s T) uint16 {
	t := &crcTables
	c := uint16(0xFFFF)
	for len(s) >= 8 {
		c = t[7][byte(c>>8)^s[0]] ^ t[6][byte(c)^s[1]] ^ t[5][s[2]] ^ t[4][s[3]] ^
			t[3][s[4]] ^ t[2][s[5]] ^ t[1][s[6]] ^ t[0][s[7]]
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		c = c<<8 ^ t[0][byte(c>>8)^s[i]]
	}
	return c
}

const hexUpper = "0123456789ABCDEF"

// appendCRC appends the 4 upper-case hex digits of crc16(payload).
func appendCRC[T string | []byte](dst []byte, payload T) []byte {
	c := crc16(payload)
	return append(dst, hexUpper[c>>12], hexUpper[c>>8&0xF], hexUpper[c>>4&0xF], hexUpper[c&0xF])
}

// CRC returns the tag 63 value for payload: 4 upper-case hex digits of its
// CRC-16/CCITT-FALSE over the UTF-8 bytes. The payload is the whole QR up to
// and including "6304".
func CRC(payload string) string {
	return string(appendCRC(make([]byte, 0, 4), payload))
}

// MD5 returns the lower-case hex md5 of a QR string's UTF-8 bytes: the key
// Bakong's check_transaction_by_md5 knows the payment by.
func MD5(qr string) string {
	sum := md5.Sum([]byte(qr))
	return hex.EncodeToString(sum[:])
}
