package khqr

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Decoded is a KHQR read field by field, each value as it appears in the QR
// ("" when absent). Its JSON form has the keys of the SDK's decode(), in the
// same order, with null for absent values; only pointOfInitiationMethod is
// spelled with a capital O (the SDK writes pointofInitiationMethod).
type Decoded struct {
	MerchantType           MerchantType // "29" or "30"; "" when neither tag is present
	AccountID              string       // tag 29/30 sub 00: bakongAccountID
	AccountInformation     string       // tag 29 sub 01
	MerchantID             string       // tag 30 sub 01
	AcquiringBank          string       // tag 29/30 sub 02
	BillNumber             string       // tag 62 sub 01
	MobileNumber           string       // tag 62 sub 02
	StoreLabel             string       // tag 62 sub 03
	TerminalLabel          string       // tag 62 sub 07
	Purpose                string       // tag 62 sub 08: purposeOfTransaction
	LanguagePreference     string       // tag 64 sub 00
	MerchantNameAlt        string       // tag 64 sub 01
	MerchantCityAlt        string       // tag 64 sub 02
	CreationTimestamp      string       // tag 99 sub 00, milliseconds
	ExpirationTimestamp    string       // tag 99 sub 01, milliseconds
	PayloadFormatIndicator string       // tag 00
	PointOfInitiation      string       // tag 01: "11" static, "12" dynamic
	UnionPayMerchant       string       // tag 15
	MCC                    string       // tag 52: merchantCategoryCode
	Currency               string       // tag 53, numeric: transactionCurrency
	Amount                 string       // tag 54: transactionAmount
	CountryCode            string       // tag 58
	MerchantName           string       // tag 59
	MerchantCity           string       // tag 60
	CRC                    string       // tag 63
}

// Decode reads any string into a Decoded. Like the SDK's decode() it checks
// neither the CRC nor the field rules (Verify does), and skips unknown tags
// and sub-tags. Unlike it, it never loops and fails on a malformed TLV with
// an *Error naming the tag, the byte offset and what was expected: a length
// that is not 2 digits or runs past the end or into a character, invalid
// UTF-8, a repeated tag, both tags 29 and 30.
func Decode(s string) (*Decoded, error) {
	if !utf8.ValidString(s) {
		return nil, invalidUTF8(s)
	}
	var buf [32]field
	fields, err := scan(buf[:0], s, 0, "")
	if err != nil {
		return nil, err
	}
	d := new(Decoded)
	var seen [100]bool
	for _, f := range fields {
		n := tagIndex(f.tag)
		if seen[n] || (n == 29 && seen[30]) || (n == 30 && seen[29]) {
			return nil, scanErr("", f.tag, f.off, "tag appears twice (or with both tags 29 and 30)")
		}
		seen[n] = true
		if err := d.set(f); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// invalidUTF8 reports the first invalid UTF-8 byte of s.
func invalidUTF8(s string) *Error {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	return at(sdkErr(CodeInvalid, "", "invalid UTF-8"), i)
}

// set stores one top-level field.
func (d *Decoded) set(f field) *Error {
	v := f.value
	switch f.tag {
	case "00":
		d.PayloadFormatIndicator = v
	case "01":
		d.PointOfInitiation = v
	case "15":
		d.UnionPayMerchant = v
	case "29", "30":
		d.MerchantType = MerchantType(f.tag)
		return d.setSubs(f, func(g field) {
			switch g.tag {
			case "00":
				d.AccountID = g.value
			case "01":
				if f.tag == "30" {
					d.MerchantID = g.value
				} else {
					d.AccountInformation = g.value
				}
			case "02":
				d.AcquiringBank = g.value
			}
		})
	case "52":
		d.MCC = v
	case "53":
		d.Currency = v
	case "54":
		d.Amount = v
	case "58":
		d.CountryCode = v
	case "59":
		d.MerchantName = v
	case "60":
		d.MerchantCity = v
	case "62":
		return d.setSubs(f, func(g field) {
			switch g.tag {
			case "01":
				d.BillNumber = g.value
			case "02":
				d.MobileNumber = g.value
			case "03":
				d.StoreLabel = g.value
			case "07":
				d.TerminalLabel = g.value
			case "08":
				d.Purpose = g.value
			}
		})
	case "64":
		return d.setSubs(f, func(g field) {
			switch g.tag {
			case "00":
				d.LanguagePreference = g.value
			case "01":
				d.MerchantNameAlt = g.value
			case "02":
				d.MerchantCityAlt = g.value
			}
		})
	case "99":
		return d.setSubs(f, func(g field) {
			switch g.tag {
			case "00":
				d.CreationTimestamp = g.value
			case "01":
				d.ExpirationTimestamp = g.value
			}
		})
	case "63":
		d.CRC = v
	}
	return nil
}

// setSubs parses template f and hands each sub-field to set.
func (d *Decoded) setSubs(f field, set func(field)) *Error {
	var buf [8]field
	subs, err := subfields(buf[:0], f)
	if err != nil {
		return err
	}
	for _, g := range subs {
		set(g)
	}
	return nil
}

// pairs lists the SDK decode() keys and their values, in the SDK's order.
func (d *Decoded) pairs() [25]struct{ key, value string } {
	return [25]struct{ key, value string }{
		{"merchantType", string(d.MerchantType)},
		{"bakongAccountID", d.AccountID},
		{"accountInformation", d.AccountInformation},
		{"merchantID", d.MerchantID},
		{"acquiringBank", d.AcquiringBank},
		{"billNumber", d.BillNumber},
		{"mobileNumber", d.MobileNumber},
		{"storeLabel", d.StoreLabel},
		{"terminalLabel", d.TerminalLabel},
		{"purposeOfTransaction", d.Purpose},
		{"languagePreference", d.LanguagePreference},
		{"merchantNameAlternateLanguage", d.MerchantNameAlt},
		{"merchantCityAlternateLanguage", d.MerchantCityAlt},
		{"creationTimestamp", d.CreationTimestamp},
		{"expirationTimestamp", d.ExpirationTimestamp},
		{"payloadFormatIndicator", d.PayloadFormatIndicator},
		{"pointOfInitiationMethod", d.PointOfInitiation},
		{"unionPayMerchant", d.UnionPayMerchant},
		{"merchantCategoryCode", d.MCC},
		{"transactionCurrency", d.Currency},
		{"transactionAmount", d.Amount},
		{"countryCode", d.CountryCode},
		{"merchantName", d.MerchantName},
		{"merchantCity", d.MerchantCity},
		{"crc", d.CRC},
	}
}

// MarshalJSON writes the SDK decode() object: every key, in order, with the
// value as a string or null when absent.
func (d *Decoded) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 1024)
	b = append(b, '{')
	for i, p := range d.pairs() {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, p.key)
		b = append(b, ':')
		if p.value == "" {
			b = append(b, "null"...)
			continue
		}
		b = appendJSONString(b, p.value)
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as a JSON string. Unlike encoding/json it keeps
// <, > and & as they are, as JavaScript's JSON.stringify does.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}

// Info converts d back to what Encode takes: the currency from its numeric
// code, the amount into minor units (ParseAmount's rules), the expiration
// into a time. Strings are copied as they are, so a KHQR encoded from Info
// decodes back to the same Info (FixedDecimals is set only for a whole USD
// amount written with ".00"). Errors are *Error with the SDK's code.
func (d *Decoded) Info() (Info, error) {
	info := Info{
		Type:               d.MerchantType,
		AccountID:          d.AccountID,
		AccountInformation: d.AccountInformation,
		MerchantID:         d.MerchantID,
		AcquiringBank:      d.AcquiringBank,
		MerchantName:       d.MerchantName,
		MerchantCity:       d.MerchantCity,
		MCC:                d.MCC,
		UPI:                d.UnionPayMerchant,
		BillNumber:         d.BillNumber,
		MobileNumber:       d.MobileNumber,
		StoreLabel:         d.StoreLabel,
		TerminalLabel:      d.TerminalLabel,
		Purpose:            d.Purpose,
		LanguagePreference: d.LanguagePreference,
		MerchantNameAlt:    d.MerchantNameAlt,
		MerchantCityAlt:    d.MerchantCityAlt,
	}
	if d.MerchantType == "" {
		return Info{}, sdkErr(CodeMerchantTypeRequired, "tag 29/30", "")
	}
	cur, err := numericCurrency(d.Currency)
	if err != nil {
		return Info{}, err
	}
	info.Currency = cur
	if d.Amount != "" {
		if info.Amount, err = ParseAmount(d.Amount, cur); err != nil {
			return Info{}, err
		}
		info.FixedDecimals = cur == USD && info.Amount%100 == 0 && strings.Contains(d.Amount, ".")
	}
	if d.ExpirationTimestamp != "" {
		if info.ExpiresAt, err = parseMillis("tag 99.01", d.ExpirationTimestamp); err != nil {
			return Info{}, err
		}
	}
	return info, nil
}

// CreatedAt is the creation time in tag 99, zero when absent.
func (d *Decoded) CreatedAt() (time.Time, error) {
	if d.CreationTimestamp == "" {
		return time.Time{}, nil
	}
	return parseMillis("tag 99.00", d.CreationTimestamp)
}

// numericCurrency reads tag 53.
func numericCurrency(code string) (Currency, error) {
	switch code {
	case "116":
		return KHR, nil
	case "840":
		return USD, nil
	case "":
		return "", sdkErr(CodeCurrencyRequired, "tag 53", "")
	}
	return "", sdkErr(CodeUnsupportedCurrency, "tag 53", strconv.Quote(code)+": want 116 (KHR) or 840 (USD)")
}

// parseMillis reads a 13-digit millisecond timestamp.
func parseMillis(where, s string) (time.Time, error) {
	if len(s) != msDigits || !AllDigits(s) {
		return time.Time{}, sdkErr(CodeExpirationLength, where, strconv.Quote(s)+": want 13 digits of milliseconds")
	}
	ms, _ := strconv.ParseInt(s, 10, 64)
	return time.UnixMilli(ms), nil
}
