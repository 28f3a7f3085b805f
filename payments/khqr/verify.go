package khqr

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Verify reports whether s is a valid KHQR at time now: nil, or an *Error
// with the SDK's code where one applies.
//
// It first makes every check of the SDK's verify(), in the SDK's order, so
// that a QR the SDK rejects is rejected with the same code: CRC, the
// dynamic-QR structure (47, 45), required tags, then each tag in string
// order with the generator's rules (a dynamic QR's expiry included: valid up
// to and including its expiration millisecond). Like the SDK it tolerates
// unknown tags and any tag order. Then it applies the stricter rules listed
// in the package documentation. A malformed TLV stops the SDK's reader
// before the CRC tag, so it is reported as CodeCRCRequired (24), inside a
// template as CodeInvalid (8), with the tag and offset.
func Verify(s string, now time.Time) error {
	if err := checkCRC(s); err != nil {
		return err
	}
	var buf [32]field
	fields, perr := scan(buf[:0], s, 0, "")
	v := verifier{fields: fields, now: now.UnixMilli()}
	for _, f := range fields {
		switch f.tag {
		case "01":
			v.poi, v.hasPOI = f.value, true
		case "53":
			v.currency = f.value
		}
	}
	if err := v.structure(perr); err != nil {
		return err
	}
	for _, f := range fields {
		if err := v.sdkRules(f); err != nil {
			return err
		}
	}
	if err := v.duplicates(); err != nil {
		return err
	}
	for _, f := range fields {
		if err := v.strictRules(f); err != nil {
			return err
		}
	}
	if !v.hasPOI {
		return sdkErr(CodePOIInvalid, "tag 01", "point of initiation method is missing: want 11 (static) or 12 (dynamic)")
	}
	if last := fields[len(fields)-1]; last.tag != "63" || last.off != len(s)-8 {
		return failOurs("", last, "The CRC (tag 63) must be the last field, covering all before it")
	}
	return nil
}

// checkCRC checks the end of s: "6304" and 4 hex digits matching the CRC of
// everything before them.
func checkCRC(s string) *Error {
	if !utf8.ValidString(s) {
		return invalidUTF8(s)
	}
	n := len(s)
	if n < 8 || s[n-8:n-4] != "6304" || !IsHex(s[n-4:], 4) {
		return sdkErr(CodeInvalid, "tag 63", "want the QR to end with 6304 and a 4-hex-digit CRC")
	}
	if want := CRC(s[:n-4]); !strings.EqualFold(want, s[n-4:]) {
		e := sdkErr(CodeInvalid, "tag 63", "CRC is "+s[n-4:]+", the payload's is "+want)
		e.Offset = n - 8
		return e
	}
	if units(s) < 12 {
		return sdkErr(CodeInvalid, "", "too short: "+strconv.Itoa(units(s))+" characters")
	}
	return nil
}

// IsHex reports whether s is n hex digits, either case: a CRC, an md5, a
// transaction hash or its short form. Every package above this one uses it.
func IsHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// verifier holds what the checks of one Verify share.
type verifier struct {
	fields   []field
	now      int64 // ms
	poi      string
	hasPOI   bool
	currency string
}

// has reports whether tag is present; 30 counts as 29, as in the SDK.
func (v *verifier) has(tag string) bool {
	for _, f := range v.fields {
		if f.tag == tag || (tag == "29" && f.tag == "30") {
			return true
		}
	}
	return false
}

// structure checks what the SDK checks before looking at values.
func (v *verifier) structure(perr *Error) *Error {
	if v.poi == "12" {
		if !v.has("54") {
			return sdkErr(CodeDynamicAmount, "tag 54", "a dynamic QR (tag 01 = 12) needs an amount")
		}
		if !v.has("99") {
			return sdkErr(CodeExpirationRequired, "tag 99", "a dynamic QR (tag 01 = 12) needs timestamps")
		}
	}
	if v.has("54") && !v.has("99") {
		return sdkErr(CodeExpirationRequired, "tag 99", "a QR with an amount needs timestamps")
	}
	for _, r := range [...]struct {
		tag  string
		code int
	}{
		{"00", CodePayloadFormatRequired},
		{"29", CodeMerchantTypeRequired},
		{"52", CodeMCCRequired},
		{"53", CodeCurrencyRequired},
		{"58", CodeCountryRequired},
		{"59", CodeNameRequired},
		{"60", CodeCityRequired},
		{"63", CodeCRCRequired},
	} {
		if !v.has(r.tag) {
			switch {
			case perr == nil:
				return sdkErr(r.code, "tag "+r.tag, "missing")
			case r.code == CodeCRCRequired:
				return brokenWalk(perr)
			}
			return sdkErr(r.code, "tag "+r.tag, "missing: the TLV walk stopped before it, "+walkStop(perr))
		}
	}
	if perr != nil {
		return brokenWalk(perr)
	}
	return nil
}

// walkStop says where and why the TLV walk stopped.
func walkStop(perr *Error) string {
	s := "at offset " + strconv.Itoa(perr.Offset)
	if perr.Field != "" {
		s += " (" + perr.Field + ")"
	}
	return s + ": " + perr.Detail
}

// brokenWalk reports a malformed top-level TLV: the SDK's reader loses its
// way there and never reaches the CRC tag.
func brokenWalk(perr *Error) *Error {
	e := sdkErr(CodeCRCRequired, perr.Field, perr.Detail)
	e.Offset = perr.Offset
	return e
}

// fail builds the error of field f of template parent ("" at the top).
func fail(code int, parent string, f field, detail string) *Error {
	e := sdkErr(code, tagName(parent, f.tag), detail)
	e.Offset = f.off
	return e
}

// failOurs is fail for a rule of ours.
func failOurs(parent string, f field, msg string) *Error {
	e := ourErr(tagName(parent, f.tag), msg)
	e.Offset = f.off
	return e
}

// at sets the offset of e.
func at(e *Error, off int) *Error {
	e.Offset = off
	return e
}

// lenRule fails with code when f is empty or longer than max units.
func lenRule(f field, parent string, max, code int) *Error {
	if f.value == "" {
		return fail(code, parent, f, "empty")
	}
	if n := units(f.value); n > max {
		return fail(code, parent, f, strconv.Itoa(n)+" characters, want at most "+strconv.Itoa(max))
	}
	return nil
}

// sub finds a sub-field.
func sub(subs []field, tag string) (field, bool) {
	for _, g := range subs {
		if g.tag == tag {
			return g, true
		}
	}
	return field{}, false
}

// sdkRules applies the SDK's verify() rules to one field.
func (v *verifier) sdkRules(f field) *Error {
	val := f.value
	switch f.tag {
	case "00":
		if val == "" {
			return fail(CodePayloadFormatRequired, "", f, "empty")
		}
		if units(val) > 2 {
			return fail(CodePayloadFormatLength, "", f, strconv.Quote(val)+": want 01")
		}
	case "01":
		if err := lenRule(f, "", 2, CodePOILength); err != nil {
			return err
		}
		if val != "11" && val != "12" {
			return fail(CodePOIInvalid, "", f, strconv.Quote(val)+": want 11 (static) or 12 (dynamic)")
		}
	case "15":
		return lenRule(f, "", maxLen, CodeUPILength)
	case "29", "30":
		return v.sdkAccount(f)
	case "52":
		if val == "" {
			return fail(CodeMCCRequired, "", f, "empty")
		}
		if units(val) > 4 {
			return fail(CodeMCCLength, "", f, strconv.Quote(val)+": want 4 digits")
		}
		if !AllDigits(val) {
			return fail(CodeMCCInvalid, "", f, strconv.Quote(val)+": want 4 digits")
		}
	case "53":
		if val != "116" && val != "840" {
			return fail(CodeUnsupportedCurrency, "", f, strconv.Quote(val)+": want 116 (KHR) or 840 (USD)")
		}
	case "54":
		if val == "" || units(val) > maxAmount || strings.Contains(val, "-") {
			return fail(CodeAmountInvalid, "", f, strconv.Quote(val)+": want a positive amount of at most 13 characters")
		}
	case "58":
		if val == "" {
			return fail(CodeCountryRequired, "", f, "empty")
		}
		if units(val) > 2 {
			return fail(CodeCountryLength, "", f, strconv.Quote(val)+": want KH")
		}
	case "59":
		if val == "" {
			return fail(CodeNameRequired, "", f, "empty")
		}
		return lenRule(f, "", maxName, CodeNameLength)
	case "60":
		if val == "" {
			return fail(CodeCityRequired, "", f, "empty")
		}
		return lenRule(f, "", maxCity, CodeCityLength)
	case "62":
		return v.sdkAdditional(f)
	case "64":
		return v.sdkLanguage(f)
	case "99":
		if v.poi == "12" {
			return v.expiry(f, true)
		}
		var buf [8]field
		if _, err := subfields(buf[:0], f); err != nil {
			return err
		}
	case "63":
		if units(val) != 4 {
			return fail(CodeCRCLength, "", f, "want 4 hex digits")
		}
	}
	return nil
}

// sdkAccount applies the SDK's rules to tag 29 or 30.
func (v *verifier) sdkAccount(f field) *Error {
	var buf [8]field
	subs, err := subfields(buf[:0], f)
	if err != nil {
		return err
	}
	acc, ok := sub(subs, "00")
	if !ok || acc.value == "" {
		return fail(CodeAccountRequired, f.tag, field{tag: "00", off: f.off}, "missing")
	}
	if err := lenRule(acc, f.tag, maxAccount, CodeAccountLength); err != nil {
		return err
	}
	if !strings.Contains(acc.value, "@") {
		return fail(CodeAccountInvalid, f.tag, acc, strconv.Quote(acc.value)+": want name@bank")
	}
	code := CodeAccountInformationLength
	if f.tag == "30" {
		code = CodeMerchantIDLength
	}
	if g, ok := sub(subs, "01"); ok {
		if err := lenRule(g, f.tag, maxAccount, code); err != nil {
			return err
		}
	}
	if g, ok := sub(subs, "02"); ok {
		if err := lenRule(g, f.tag, maxAccount, CodeAcquiringBankLength); err != nil {
			return err
		}
	}
	return nil
}

// additionalCodes maps each tag 62 sub-tag to its SDK length code.
var additionalCodes = [...]struct {
	tag  string
	code int
}{
	{"01", CodeBillLength},
	{"02", CodeMobileLength},
	{"03", CodeStoreLength},
	{"07", CodeTerminalLength},
	{"08", CodePurposeLength},
}

// sdkAdditional applies the SDK's rules to tag 62.
func (v *verifier) sdkAdditional(f field) *Error {
	var buf [8]field
	subs, err := subfields(buf[:0], f)
	if err != nil {
		return err
	}
	for _, r := range additionalCodes {
		if g, ok := sub(subs, r.tag); ok {
			if err := lenRule(g, f.tag, maxName, r.code); err != nil {
				return err
			}
		}
	}
	return nil
}

// sdkLanguage applies the generator's rules to tag 64.
func (v *verifier) sdkLanguage(f field) *Error {
	var buf [8]field
	subs, err := subfields(buf[:0], f)
	if err != nil {
		return err
	}
	pref, hasPref := sub(subs, "00")
	name, hasName := sub(subs, "01")
	if hasPref && !hasName {
		return fail(CodeNameAltRequired, f.tag, field{tag: "01", off: f.off}, "a language preference comes with the merchant name in that language")
	}
	if hasPref {
		if err := lenRule(pref, f.tag, maxLanguage, CodeLanguageLength); err != nil {
			return err
		}
	}
	if hasName {
		if err := lenRule(name, f.tag, maxName, CodeNameAltLength); err != nil {
			return err
		}
	}
	if g, ok := sub(subs, "02"); ok {
		return lenRule(g, f.tag, maxCity, CodeCityAltLength)
	}
	return nil
}

// expiry checks tag 99. The SDK checks it only on a dynamic QR (required
// true): expiration present, 13 digits, not before creation, not before
// now. On a static QR an expiration, when there is one, gets the same
// checks; a creation timestamp alone (bakong-khqr <= 1.0.17) is fine.
func (v *verifier) expiry(f field, required bool) *Error {
	var buf [8]field
	subs, err := subfields(buf[:0], f)
	if err != nil {
		return err
	}
	created, hasCreated := sub(subs, "00")
	if !required && hasCreated && !is13DigitString(created.value) {
		return fail(CodeExpirationLength, f.tag, created, strconv.Quote(created.value)+": want 13 digits of milliseconds")
	}
	exp, ok := sub(subs, "01")
	if !ok || exp.value == "" {
		if required {
			return fail(CodeExpirationRequired, f.tag, field{tag: "01", off: f.off}, "a dynamic QR needs an expiration timestamp")
		}
		return nil
	}
	if !is13DigitString(exp.value) {
		return fail(CodeExpirationLength, f.tag, exp, strconv.Quote(exp.value)+": want 13 digits of milliseconds")
	}
	e, _ := strconv.ParseInt(exp.value, 10, 64)
	if hasCreated && is13DigitString(created.value) {
		if c, _ := strconv.ParseInt(created.value, 10, 64); e < c {
			return fail(CodeExpirationPast, f.tag, exp, "expiration "+exp.value+" is before creation "+created.value)
		}
	}
	if e < v.now {
		return fail(CodeExpired, f.tag, exp, "expired at "+time.UnixMilli(e).UTC().Format(time.RFC3339Nano)+", now is "+time.UnixMilli(v.now).UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// is13DigitString reports whether s is exactly 13 ASCII digits.
func is13DigitString(s string) bool {
	return len(s) == msDigits && AllDigits(s)
}

// duplicates rejects a tag present twice (or both 29 and 30), which the
// SDK reads twice and decode() resolves by keeping the last.
func (v *verifier) duplicates() *Error {
	var seen [100]bool
	for _, f := range v.fields {
		n := tagIndex(f.tag)
		if seen[n] || (n == 29 && seen[30]) || (n == 30 && seen[29]) {
			return failOurs("", f, "Tag appears twice (or both tags 29 and 30 are present)")
		}
		seen[n] = true
	}
	return nil
}

// strictRules applies our rules beyond the SDK's to one field.
func (v *verifier) strictRules(f field) *Error {
	var buf [8]field
	switch f.tag {
	case "00":
		if f.value != "01" {
			return failOurs("", f, "Payload format indicator must be 01")
		}
	case "15":
		if v.currency == USD.Code() {
			return fail(CodeUPICurrency, "", f, "tag 15 is for KHR only")
		}
	case "29", "30":
		subs, _ := subfields(buf[:0], f)
		acc, _ := sub(subs, "00")
		if err := checkAccount(acc.value); err != nil {
			return at(err, acc.off)
		}
		if f.tag == "30" {
			if _, ok := sub(subs, "01"); !ok {
				return fail(CodeMerchantIDRequired, f.tag, field{tag: "01", off: f.off}, "a merchant KHQR needs a merchant ID")
			}
			if _, ok := sub(subs, "02"); !ok {
				return fail(CodeAcquiringBankRequired, f.tag, field{tag: "02", off: f.off}, "a merchant KHQR needs an acquiring bank")
			}
		}
	case "52":
		if len(f.value) != 4 {
			return fail(CodeMCCLength, "", f, strconv.Quote(f.value)+": want 4 digits")
		}
	case "54":
		cur, _ := numericCurrency(v.currency)
		n, err := parseAmount(f.value, cur)
		if err != nil {
			err.Field, err.Offset = tagName("", f.tag), f.off
			return err
		}
		if n == 0 {
			return fail(CodeAmountInvalid, "", f, strconv.Quote(f.value)+": want a positive amount")
		}
		// "12345678901.2" fits tag 54, but the SDK writes that sum as
		// "12345678901.20": no generator of ours or NBC's makes such a QR.
		if a := FormatAmount(n, cur); len(a) > maxAmount {
			return fail(CodeAmountInvalid, "", f, strconv.Quote(f.value)+": its SDK form "+strconv.Quote(a)+" is over 13 characters")
		}
	case "58":
		if f.value != "KH" {
			return failOurs("", f, "Country code must be KH")
		}
	case "64":
		subs, _ := subfields(buf[:0], f)
		if _, ok := sub(subs, "00"); !ok {
			return failOurs(f.tag, field{tag: "00", off: f.off}, "Language preference is required with an alternate merchant name or city")
		}
	case "99":
		return v.expiry(f, false)
	}
	return nil
}
