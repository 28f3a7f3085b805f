package khqr

import (
	"math"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		cur  Currency
		want int64
		err  string // "" when valid
	}{
		{"5", USD, 500, ""},
		{"10.5", USD, 1050, ""},
		{"0.01", USD, 1, ""},
		{"5.00", USD, 500, ""},
		{"0", USD, 0, ""},
		{"1234567890.12", USD, 123456789012, ""},
		{"50000", KHR, 50000, ""},
		{"0", KHR, 0, ""},
		{"9999999999999999", KHR, 9999999999999999, ""},
		{"", USD, 0, "empty"},
		{"-1", USD, 0, "negative"},
		{"+5", USD, 0, "decimal number"},
		{"1e3", USD, 0, "decimal number"},
		{"05", USD, 0, "leading zero"},
		{".5", USD, 0, "decimal number"},
		{"5.", USD, 0, "decimal number"},
		{"1,000", KHR, 0, "decimal number"},
		{" 5", USD, 0, "decimal number"},
		{"5..0", USD, 0, "decimal number"},
		{"١", USD, 0, "decimal number"},
		{"10.505", USD, 0, "at most 2 decimals"},
		{"100.5", KHR, 0, "KHR takes no decimals"},
		{"100.00", KHR, 0, "KHR takes no decimals"},
		{"10000000000000000", KHR, 0, "too large"},
		{"5", "EUR", 0, "currency"},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in, tt.cur)
		if tt.err == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d", tt.in, tt.cur, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want error with %q", tt.in, tt.cur, got, err, tt.err)
		}
		if c := ErrorCode(err); c != CodeAmountInvalid && c != CodeUnsupportedCurrency {
			t.Errorf("ParseAmount(%q): code %d", tt.in, c)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		minor int64
		cur   Currency
		want  string
	}{
		{500, USD, "5"},
		{1050, USD, "10.50"},
		{1010, USD, "10.10"},
		{1, USD, "0.01"},
		{0, USD, "0"},
		{123456789012, USD, "1234567890.12"},
		{-1050, USD, "-10.50"},
		{math.MinInt64, USD, "-92233720368547758.08"},
		{50000, KHR, "50000"},
		{100, KHR, "100"},
	}
	for _, tt := range tests {
		if got := FormatAmount(tt.minor, tt.cur); got != tt.want {
			t.Errorf("FormatAmount(%d, %s) = %q, want %q", tt.minor, tt.cur, got, tt.want)
		}
		if tt.minor >= 0 {
			if back, err := ParseAmount(FormatAmount(tt.minor, tt.cur), tt.cur); err != nil || back != tt.minor {
				t.Errorf("ParseAmount(FormatAmount(%d)) = %d, %v", tt.minor, back, err)
			}
		}
	}
}

func TestCRC(t *testing.T) {
	if got := CRC("123456789"); got != "29B1" {
		t.Errorf("check value %s, want 29B1", got)
	}
	if got := MD5("00020101021129180014jonhsmith@nbcq5204599953031165802KH5910Jonh Smith6010Phnom Penh6304856B"); got != "cba0b1de19ac736653267fc127e08b92" {
		t.Errorf("md5 %s", got)
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{sdkErr(CodeAmountInvalid, "amount", "too big"), "khqr: Amount is invalid (code 4): amount: too big"},
		{ourErr("", "Country code must be KH"), "khqr: Country code must be KH"},
		{at(sdkErr(CodeInvalid, "tag 62.01", "runs past"), 40), "khqr: KHQR provided is invalid (code 8): tag 62.01 at offset 40: runs past"},
		{at(sdkErr(CodeInvalid, "", "tag \"ab\""), 3), "khqr: KHQR provided is invalid (code 8): at offset 3: tag \"ab\""},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
	if ErrorCode(nil) != -1 || ErrorCode(sdkErr(CodeExpired, "", "")) != CodeExpired {
		t.Error("ErrorCode")
	}
}

// TestCRCSlicing: the 8-byte steps agree with the byte-at-a-time definition.
func TestCRCSlicing(t *testing.T) {
	simple := func(s string) uint16 {
		c := uint16(0xFFFF)
		for i := 0; i < len(s); i++ {
			c ^= uint16(s[i]) << 8
			for range 8 {
				if c&0x8000 != 0 {
					c = c<<1 ^ 0x1021
				} else {
					c <<= 1
				}
			}
		}
		return c
	}
	s := strings.Repeat("0123456789ABCDEF ភ្នំពេញ😀", 20)
	for n := 0; n <= len(s); n++ {
		if got, want := crc16(s[:n]), simple(s[:n]); got != want {
			t.Fatalf("crc16 of %d bytes = %04X, want %04X", n, got, want)
		}
	}
}

// TestUnits: UTF-16 length, checked against unicode/utf16.
func TestUnits(t *testing.T) {
	for _, s := range []string{"\xff", "abcdefgh\xe1\x9e", "\xf0\x9f\x98", "\xe1\x9ex", "\xed\xa0\x80", "\xe0\x80\x80"} {
		if _, ok := validUnits(s); ok {
			t.Errorf("validUnits(%q): valid", s)
		}
	}
	for _, s := range []string{"", "a", "Phnom Penh", "ÀāƀȀ߿ࠀ\ue000\uffff𐀀", "ភ្នំពេញ", "Shop 😀", "😀😀😀😀😀", "ab😀cdefghភ្ន😀ំពេញ1234567", strings.Repeat("ក😀x", 9)} {
		for i := range len(s) + 1 {
			if !utf8.ValidString(s[i:]) {
				continue
			}
			want := len(utf16.Encode([]rune(s[i:])))
			if got := units(s[i:]); got != want {
				t.Errorf("units(%q) = %d, want %d", s[i:], got, want)
			}
			if got, ok := validUnits(s[i:]); got != want || !ok {
				t.Errorf("validUnits(%q) = %d, %v, want %d", s[i:], got, ok, want)
			}
		}
	}
}
