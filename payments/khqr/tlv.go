package khqr

import (
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// maxLen is the largest value a 2-digit TLV length can announce.
const maxLen = 99

// field is one TLV of a QR string.
type field struct {
	tag   string
	value string
	off   int // byte offset of the tag in the whole QR string
}

// units is the length of s in UTF-16 code units, the unit of every KHQR
// length (JavaScript's String.length): one per character, two for one
// beyond the BMP (a 4-byte UTF-8 sequence). s must be valid UTF-8: it
// counts bytes rather than decoding, eight at a time.
func units(s string) int {
	const high = 0x8080808080808080
	n := len(s)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if x&high == 0 {
			continue
		}
		continuation := x &^ (x << 1) & high                 // 10xxxxxx
		leader4 := x & (x << 1) & (x << 2) & (x << 3) & high // 1111xxxx
		n += bits.OnesCount64(leader4) - bits.OnesCount64(continuation)
	}
	for ; i < len(s); i++ {
		if b := s[i]; b&0xC0 == 0x80 {
			n--
		} else if b >= 0xF0 {
			n++
		}
	}
	return n
}

// scanErr describes a malformed TLV of template parent ("" at the top).
func scanErr(parent, tag string, off int, detail string) *Error {
	e := sdkErr(CodeInvalid, "", detail)
	if tag != "" {
		e.Field = tagName(parent, tag)
	}
	e.Offset = off
	return e
}

// tagName names a tag for errors: "tag 59", or "tag 62.07" inside template 62.
func tagName(parent, tag string) string {
	if parent == "" {
		return "tag " + tag
	}
	return "tag " + parent + "." + tag
}

// scan appends to dst the TLVs of s, found at byte offset base of the QR
// inside template parent ("" at the top); s must be valid UTF-8. It stops at
// the first malformed TLV and at a tag equal to the one before it (where the
// SDK's reader stops too), returning the TLVs read so far and the error.
// Each step consumes at least 4 bytes, so it always ends.
func scan(dst []field, s string, base int, parent string) ([]field, *Error) {
	fields := dst
	for i := 0; i < len(s); {
		off := base + i
		if len(s)-i < 4 {
			return fields, scanErr(parent, "", off, strconv.Quote(s[i:])+" is too short: want a 2-digit tag and a 2-digit length")
		}
		tag, l := s[i:i+2], s[i+2:i+4]
		if !AllDigits(tag) { // tag and l are 2 bytes each
			return fields, scanErr(parent, "", off, "tag "+strconv.Quote(tag)+": want 2 digits")
		}
		if !AllDigits(l) {
			return fields, scanErr(parent, tag, off, "length "+strconv.Quote(l)+": want 2 digits")
		}
		n := int(l[0]-'0')*10 + int(l[1]-'0')
		j := i + 4
		for u := 0; u < n; {
			if j >= len(s) {
				return fields, scanErr(parent, tag, off, "length "+l+" runs past the end: only "+strconv.Itoa(u)+" characters left")
			}
			if s[j] < utf8.RuneSelf {
				j++
				u++
				continue
			}
			size, w := 2, 1 // s is valid UTF-8: the lead byte gives the size
			switch {
			case s[j] >= 0xF0:
				size, w = 4, 2
			case s[j] >= 0xE0:
				size = 3
			}
			if u+w > n {
				return fields, scanErr(parent, tag, off, "length "+l+" ends inside a character")
			}
			u += w
			j += size
		}
		if len(fields) > len(dst) && fields[len(fields)-1].tag == tag {
			return fields, scanErr(parent, tag, off, "tag repeated")
		}
		fields = append(fields, field{tag: tag, value: s[i+4 : j], off: off})
		i = j
	}
	return fields, nil
}

// tagIndex is a 2-digit tag as a number, for sets of seen tags.
func tagIndex(tag string) int {
	return int(tag[0]-'0')*10 + int(tag[1]-'0')
}

// subfields appends to dst the sub-fields of template f. Sub-tags may not
// repeat.
func subfields(dst []field, f field) ([]field, *Error) {
	subs, err := scan(dst, f.value, f.off+4, f.tag)
	if err != nil {
		return nil, err
	}
	var seen [100]bool
	for _, g := range subs[len(dst):] {
		n := tagIndex(g.tag)
		if seen[n] {
			return nil, scanErr(f.tag, g.tag, g.off, "sub-tag repeated")
		}
		seen[n] = true
	}
	return subs, nil
}
