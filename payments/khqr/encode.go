package khqr

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Defaults the SDK writes when the field is left empty.
const (
	DefaultCity = "Phnom Penh" // tag 60
	DefaultMCC  = "5999"       // tag 52
)

// Maximum field lengths, in UTF-16 units as the SDK counts them.
const (
	maxAccount  = 32 // tag 29/30 sub 00, 01, 02
	maxName     = 25 // tag 59, 64.01 and every tag 62 sub-field
	maxCity     = 15 // tag 60, 64.02
	maxAmount   = 13 // tag 54
	maxLanguage = 2  // tag 64.00
	msDigits    = 13 // tag 99 timestamps: milliseconds since 1970
)

// Indexes of the variable fields in a plan's lengths.
const (
	lUPI = iota
	lAccount
	lSub01 // account information or merchant ID
	lBank
	lName
	lCity
	lBill
	lMobile
	lStore
	lTerminal
	lPurpose
	lLanguage
	lNameAlt
	lCityAlt
	lCount
)

// plan is what validation learns and building needs, so that each field is
// measured once.
type plan struct {
	typ    MerchantType
	cur    Currency
	sub01  string
	n      [lCount]int // UTF-16 length of each field
	amount [24]byte    // tag 54 value
	amtLen int
}

// tlen is the length of a TLV of a value n units long, 0 when it is absent.
func tlen(n int) int {
	if n == 0 {
		return 0
	}
	return 4 + n
}

// merchantType resolves Info.Type: an empty Type is Merchant when a
// MerchantID is given, Individual otherwise.
func merchantType(info *Info) (MerchantType, error) {
	switch info.Type {
	case "":
		if info.MerchantID != "" {
			return Merchant, nil
		}
		return Individual, nil
	case Individual:
		if info.MerchantID != "" {
			return "", ourErr("merchant ID", "Merchant ID needs a merchant KHQR (tag 30), not an individual one")
		}
		return Individual, nil
	case Merchant:
		if info.AccountInformation != "" {
			return "", ourErr("account information", "Account information needs an individual KHQR (tag 29), not a merchant one")
		}
		return Merchant, nil
	}
	return "", ourErr("type", "Merchant type "+strconv.Quote(string(info.Type))+" is invalid: want 29 (individual) or 30 (merchant)")
}

// measure checks that v is valid UTF-8 and at most max units long (else
// the SDK's code), and records its length at index i of p.
func (p *plan) measure(i int, name, v string, max, code int) error {
	n, ok := validUnits(v)
	if !ok {
		return ourErr(name, "Field is not valid UTF-8")
	}
	if n > max {
		return sdkErr(code, name, strconv.Itoa(n)+" characters, want at most "+strconv.Itoa(max))
	}
	p.n[i] = n
	return nil
}

// validUnits is units(s) for any s, and whether s is valid UTF-8: one pass
// where utf8.ValidString and units would take two.
func validUnits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if x&0x8080808080808080 == 0 {
				n += 8
				i += 8
				continue
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		if c >= 0xE1 && c <= 0xEC && i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 {
			n++ // a common 3-byte character (Khmer is E1 9E/9F xx), no overlong or surrogate form
			i += 3
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return 0, false
		}
		n++
		if size == 4 {
			n++
		}
		i += size
	}
	return n, true
}

// template is the length of the template holding fields first to last.
func (p *plan) template(first, last int) int {
	n := 0
	for i := first; i <= last; i++ {
		n += tlen(p.n[i])
	}
	return n
}

// tooLong rejects a template whose content exceeds a 2-digit length, which
// the SDK writes anyway as a 3-digit length its own verify() refuses.
func tooLong(tag string, n int, what string) error {
	e := ourErr(tag, "Template is too long for a KHQR")
	e.Detail = strconv.Itoa(n) + " characters, at most 99: shorten " + what
	return e
}

// Validate checks info against every rule of the SDK's generator, in the
// SDK's order so that the first error is the one it reports, plus ours:
// an account must be name@bank, an MCC 4 digits, and the inputs for which
// the SDK writes a broken QR (a template over 99 characters; an alternate
// name or city without a language preference) are refused. Errors are
// *Error. Only the checks against the clock are left to Encode.
func (info Info) Validate() error {
	var p plan
	return p.validate(&info)
}

// validate is Validate, filling p.
func (p *plan) validate(info *Info) error {
	if err := p.measure(lUPI, "UPI merchant account", info.UPI, maxLen, CodeUPILength); err != nil {
		return err
	}
	typ, err := merchantType(info)
	if err != nil {
		return err
	}
	p.typ = typ
	if err := p.validateAccount(info); err != nil {
		return err
	}
	if mcc := info.MCC; mcc != "" {
		switch {
		case units(mcc) > 4:
			return sdkErr(CodeMCCLength, "merchant category code", strconv.Quote(mcc)+": want 4 digits")
		case !AllDigits(mcc):
			return sdkErr(CodeMCCInvalid, "merchant category code", strconv.Quote(mcc)+": want 4 digits")
		case len(mcc) != 4:
			return sdkErr(CodeMCCLength, "merchant category code", strconv.Quote(mcc)+": want 4 digits (ISO 18245), zero-padded")
		}
	}
	p.cur = info.Currency
	if p.cur == "" {
		p.cur = KHR
	}
	if err := p.cur.Validate(); err != nil {
		return sdkErr(CodeUnsupportedCurrency, "currency", err.Error())
	}
	if info.UPI != "" && p.cur == USD {
		return sdkErr(CodeUPICurrency, "UPI merchant account", "tag 15 is for KHR only")
	}
	if info.Amount < 0 {
		return sdkErr(CodeAmountInvalid, "amount", "must not be negative")
	}
	a := appendAmount(p.amount[:0], info.Amount, p.cur, info.FixedDecimals)
	if len(a) > maxAmount {
		return sdkErr(CodeAmountInvalid, "amount", string(a)+" is "+strconv.Itoa(len(a))+" characters, want at most 13")
	}
	p.amtLen = len(a)
	if info.MerchantName == "" {
		return sdkErr(CodeNameRequired, "merchant name", "")
	}
	if err := p.measure(lName, "merchant name", info.MerchantName, maxName, CodeNameLength); err != nil {
		return err
	}
	if err := p.measure(lCity, "merchant city", info.MerchantCity, maxCity, CodeCityLength); err != nil {
		return err
	}
	if err := p.validateAdditional(info); err != nil {
		return err
	}
	if err := p.validateLanguage(info); err != nil {
		return err
	}
	if info.Amount == 0 {
		return nil
	}
	if info.ExpiresAt.IsZero() {
		return sdkErr(CodeExpirationRequired, "expiration", "a dynamic KHQR (with an amount) needs ExpiresAt")
	}
	if ms := info.ExpiresAt.UnixMilli(); !is13Digits(ms) {
		return sdkErr(CodeExpirationLength, "expiration", strconv.FormatInt(ms, 10)+": want 13 digits of milliseconds")
	}
	return nil
}

// validateAccount checks tag 29 or 30.
func (p *plan) validateAccount(info *Info) error {
	acc := info.AccountID
	if acc == "" {
		return sdkErr(CodeAccountRequired, "account ID", "")
	}
	if err := p.measure(lAccount, "account ID", acc, maxAccount, CodeAccountLength); err != nil {
		return err
	}
	if err := checkAccount(acc); err != nil {
		return err
	}
	// Sub-tag 01 is the merchant ID of tag 30 (required) or the account
	// information of tag 29; sub-tag 02, the acquiring bank, is required in
	// tag 30 only. The SDK checks them in this order.
	name, code := "account information", CodeAccountInformationLength
	p.sub01 = info.AccountInformation
	if p.typ == Merchant {
		name, code = "merchant ID", CodeMerchantIDLength
		p.sub01 = info.MerchantID
		if p.sub01 == "" {
			return sdkErr(CodeMerchantIDRequired, name, "")
		}
	}
	if err := p.measure(lSub01, name, p.sub01, maxAccount, code); err != nil {
		return err
	}
	if p.typ == Merchant && info.AcquiringBank == "" {
		return sdkErr(CodeAcquiringBankRequired, "acquiring bank", "")
	}
	if err := p.measure(lBank, "acquiring bank", info.AcquiringBank, maxAccount, CodeAcquiringBankLength); err != nil {
		return err
	}
	if n := p.template(lAccount, lBank); n > maxLen {
		return tooLong("tag "+string(p.typ), n, "the account ID, "+name+" or acquiring bank")
	}
	return nil
}

// checkAccount requires name@bank. The SDK only wants some '@' somewhere.
func checkAccount(acc string) *Error {
	name, bank, ok := strings.Cut(acc, "@")
	if !ok || name == "" || bank == "" || strings.Contains(bank, "@") {
		return sdkErr(CodeAccountInvalid, "account ID", strconv.Quote(acc)+": want name@bank")
	}
	return nil
}

// validateAdditional checks tag 62.
func (p *plan) validateAdditional(info *Info) error {
	for _, f := range [...]struct {
		i    int
		name string
		v    string
		code int
	}{
		{lBill, "bill number", info.BillNumber, CodeBillLength},
		{lMobile, "mobile number", info.MobileNumber, CodeMobileLength},
		{lStore, "store label", info.StoreLabel, CodeStoreLength},
		{lTerminal, "terminal label", info.TerminalLabel, CodeTerminalLength},
		{lPurpose, "purpose of transaction", info.Purpose, CodePurposeLength},
	} {
		if err := p.measure(f.i, f.name, f.v, maxName, f.code); err != nil {
			return err
		}
	}
	if n := p.template(lBill, lPurpose); n > maxLen {
		return tooLong("tag 62", n, "the bill number, mobile number, store label, terminal label or purpose")
	}
	return nil
}

// validateLanguage checks tag 64.
func (p *plan) validateLanguage(info *Info) error {
	pref, name, city := info.LanguagePreference, info.MerchantNameAlt, info.MerchantCityAlt
	if pref != "" && name == "" {
		return sdkErr(CodeNameAltRequired, "merchant name (alternate language)", "a language preference comes with the merchant name in that language")
	}
	if pref == "" && (name != "" || city != "") {
		return ourErr("language preference", "Language preference is required with an alternate merchant name or city")
	}
	if err := p.measure(lLanguage, "language preference", pref, maxLanguage, CodeLanguageLength); err != nil {
		return err
	}
	if err := p.measure(lNameAlt, "merchant name (alternate language)", name, maxName, CodeNameAltLength); err != nil {
		return err
	}
	return p.measure(lCityAlt, "merchant city (alternate language)", city, maxCity, CodeCityAltLength)
}

// is13Digits reports whether ms is written with exactly 13 digits.
func is13Digits(ms int64) bool {
	return ms >= 1_000_000_000_000 && ms <= 9_999_999_999_999
}

// Encode builds the KHQR for info, created at now (the clock is injected so
// that a QR can be reproduced byte for byte), and its md5. The output is the
// SDK's for the same input: same tags in the same order, lengths in UTF-16
// units, amount written as FormatAmount does, CRC-16/CCITT-FALSE in upper
// case. A non-zero Amount makes a dynamic QR (tag 01 "12", tags 54 and 99),
// which needs an ExpiresAt at or after now; a static QR ignores ExpiresAt.
// Errors are *Error with the SDK's code; see Validate.
func Encode(info Info, now time.Time) (QR, error) {
	var p plan
	if err := p.validate(&info); err != nil {
		return QR{}, err
	}
	dynamic := info.Amount != 0
	created, expires := now.UnixMilli(), info.ExpiresAt.UnixMilli()
	if dynamic {
		if !is13Digits(created) {
			return QR{}, ourErr("creation", "Clock is out of range: "+strconv.FormatInt(created, 10)+" ms is not 13 digits")
		}
		if expires < created {
			return QR{}, sdkErr(CodeExpirationPast, "expiration", info.ExpiresAt.UTC().Format(time.RFC3339Nano)+" is before the creation time "+now.UTC().Format(time.RFC3339Nano))
		}
	}
	var buf [512]byte
	b := append(buf[:0], "000201010211"...)
	if dynamic {
		b[len(b)-1] = '2'
	}
	b = appendTLV(b, "15", info.UPI, p.n[lUPI])
	b = appendLen(append(b, p.typ...), p.template(lAccount, lBank))
	b = appendTLV(b, "00", info.AccountID, p.n[lAccount])
	b = appendTLV(b, "01", p.sub01, p.n[lSub01])
	b = appendTLV(b, "02", info.AcquiringBank, p.n[lBank])
	if info.MCC == "" {
		b = append(b, "5204"+DefaultMCC...)
	} else {
		b = appendTLV(b, "52", info.MCC, len(info.MCC))
	}
	b = append(append(b, "5303"...), p.cur.Code()...)
	if dynamic {
		b = append(appendLen(append(b, "54"...), p.amtLen), p.amount[:p.amtLen]...)
	}
	b = append(b, "5802KH"...)
	b = appendTLV(b, "59", info.MerchantName, p.n[lName])
	if info.MerchantCity == "" {
		b = append(b, "6010"+DefaultCity...)
	} else {
		b = appendTLV(b, "60", info.MerchantCity, p.n[lCity])
	}
	if n := p.template(lBill, lPurpose); n > 0 {
		b = appendLen(append(b, "62"...), n)
		b = appendTLV(b, "01", info.BillNumber, p.n[lBill])
		b = appendTLV(b, "02", info.MobileNumber, p.n[lMobile])
		b = appendTLV(b, "03", info.StoreLabel, p.n[lStore])
		b = appendTLV(b, "07", info.TerminalLabel, p.n[lTerminal])
		b = appendTLV(b, "08", info.Purpose, p.n[lPurpose])
	}
	if n := p.template(lLanguage, lCityAlt); n > 0 {
		b = appendLen(append(b, "64"...), n)
		b = appendTLV(b, "00", info.LanguagePreference, p.n[lLanguage])
		b = appendTLV(b, "01", info.MerchantNameAlt, p.n[lNameAlt])
		b = appendTLV(b, "02", info.MerchantCityAlt, p.n[lCityAlt])
	}
	if dynamic {
		b = strconv.AppendInt(append(b, "99340013"...), created, 10)
		b = strconv.AppendInt(append(b, "0113"...), expires, 10)
	}
	b = append(b, "6304"...)
	b = appendCRC(b, b)
	sum := md5.Sum(b)
	var h [2 * md5.Size]byte
	hex.Encode(h[:], sum[:])
	return QR{String: string(b), MD5: string(h[:])}, nil
}

// appendLen appends a 2-digit length.
func appendLen(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// appendTLV appends tag, the 2-digit length n and v, unless v is empty.
func appendTLV(b []byte, tag, v string, n int) []byte {
	if v == "" {
		return b
	}
	return append(appendLen(append(b, tag...), n), v...)
}
