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

// rule is one length check on an optional field: its SDK code when too long.
type rule struct {
	name  string
	value string
	max   int
	code  int
}

// check applies r: the value must be valid UTF-8 and at most max units long.
func (r rule) check() error {
	if !utf8.ValidString(r.value) {
		return ourErr(r.name, "Field is not valid UTF-8")
	}
	if n := units(r.value); n > r.max {
		return sdkErr(r.code, r.name, strconv.Itoa(n)+" characters, want at most "+strconv.Itoa(r.max))
	}
	return nil
}

// templateLen is the length of a template holding the non-empty values.
func templateLen(values ...string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n += 4 + units(v)
		}
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
	if info.UPI != "" {
		if err := (rule{"UPI merchant account", info.UPI, maxLen, CodeUPILength}).check(); err != nil {
			return err
		}
	}
	typ, err := merchantType(&info)
	if err != nil {
		return err
	}
	if err := validateAccount(&info, typ); err != nil {
		return err
	}
	if mcc := info.MCC; mcc != "" {
		switch {
		case units(mcc) > 4:
			return sdkErr(CodeMCCLength, "merchant category code", strconv.Quote(mcc)+": want 4 digits")
		case !allDigits(mcc):
			return sdkErr(CodeMCCInvalid, "merchant category code", strconv.Quote(mcc)+": want 4 digits")
		case len(mcc) != 4:
			return sdkErr(CodeMCCLength, "merchant category code", strconv.Quote(mcc)+": want 4 digits (ISO 18245), zero-padded")
		}
	}
	cur := currencyOf(&info)
	if err := cur.Validate(); err != nil {
		return sdkErr(CodeUnsupportedCurrency, "currency", err.Error())
	}
	if info.UPI != "" && cur == USD {
		return sdkErr(CodeUPICurrency, "UPI merchant account", "tag 15 is for KHR only")
	}
	if info.Amount < 0 {
		return sdkErr(CodeAmountInvalid, "amount", "must not be negative")
	}
	var buf [24]byte
	if a := appendAmount(buf[:0], info.Amount, cur, info.FixedDecimals); len(a) > maxAmount {
		return sdkErr(CodeAmountInvalid, "amount", string(a)+" is "+strconv.Itoa(len(a))+" characters, want at most 13")
	}
	if info.MerchantName == "" {
		return sdkErr(CodeNameRequired, "merchant name", "")
	}
	if err := (rule{"merchant name", info.MerchantName, maxName, CodeNameLength}).check(); err != nil {
		return err
	}
	if err := (rule{"merchant city", info.MerchantCity, maxCity, CodeCityLength}).check(); err != nil {
		return err
	}
	if err := validateAdditional(&info); err != nil {
		return err
	}
	if err := validateLanguage(&info); err != nil {
		return err
	}
	if info.Amount == 0 {
		return nil
	}
	if info.ExpiresAt.IsZero() {
		return sdkErr(CodeExpirationRequired, "expiration", "a dynamic KHQR (with an amount) needs ExpiresAt")
	}
	if !is13Digits(info.ExpiresAt.UnixMilli()) {
		return sdkErr(CodeExpirationLength, "expiration", strconv.FormatInt(info.ExpiresAt.UnixMilli(), 10)+": want 13 digits of milliseconds")
	}
	return nil
}

// validateAccount checks tag 29 or 30.
func validateAccount(info *Info, typ MerchantType) error {
	acc := info.AccountID
	if acc == "" {
		return sdkErr(CodeAccountRequired, "account ID", "")
	}
	if err := (rule{"account ID", acc, maxAccount, CodeAccountLength}).check(); err != nil {
		return err
	}
	if err := checkAccount(acc); err != nil {
		return err
	}
	if typ == Merchant {
		if info.MerchantID == "" {
			return sdkErr(CodeMerchantIDRequired, "merchant ID", "")
		}
		if err := (rule{"merchant ID", info.MerchantID, maxAccount, CodeMerchantIDLength}).check(); err != nil {
			return err
		}
		if info.AcquiringBank == "" {
			return sdkErr(CodeAcquiringBankRequired, "acquiring bank", "")
		}
		if err := (rule{"acquiring bank", info.AcquiringBank, maxAccount, CodeAcquiringBankLength}).check(); err != nil {
			return err
		}
		if n := templateLen(acc, info.MerchantID, info.AcquiringBank); n > maxLen {
			return tooLong("tag 30", n, "the account ID, merchant ID or acquiring bank")
		}
		return nil
	}
	if err := (rule{"account information", info.AccountInformation, maxAccount, CodeAccountInformationLength}).check(); err != nil {
		return err
	}
	if err := (rule{"acquiring bank", info.AcquiringBank, maxAccount, CodeAcquiringBankLength}).check(); err != nil {
		return err
	}
	if n := templateLen(acc, info.AccountInformation, info.AcquiringBank); n > maxLen {
		return tooLong("tag 29", n, "the account ID, account information or acquiring bank")
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
func validateAdditional(info *Info) error {
	for _, r := range [...]rule{
		{"bill number", info.BillNumber, maxName, CodeBillLength},
		{"mobile number", info.MobileNumber, maxName, CodeMobileLength},
		{"store label", info.StoreLabel, maxName, CodeStoreLength},
		{"terminal label", info.TerminalLabel, maxName, CodeTerminalLength},
		{"purpose of transaction", info.Purpose, maxName, CodePurposeLength},
	} {
		if err := r.check(); err != nil {
			return err
		}
	}
	if n := templateLen(info.BillNumber, info.MobileNumber, info.StoreLabel, info.TerminalLabel, info.Purpose); n > maxLen {
		return tooLong("tag 62", n, "the bill number, mobile number, store label, terminal label or purpose")
	}
	return nil
}

// validateLanguage checks tag 64.
func validateLanguage(info *Info) error {
	pref, name, city := info.LanguagePreference, info.MerchantNameAlt, info.MerchantCityAlt
	if pref != "" && name == "" {
		return sdkErr(CodeNameAltRequired, "merchant name (alternate language)", "a language preference comes with the merchant name in that language")
	}
	if pref == "" && (name != "" || city != "") {
		return ourErr("language preference", "Language preference is required with an alternate merchant name or city")
	}
	for _, r := range [...]rule{
		{"language preference", pref, maxLanguage, CodeLanguageLength},
		{"merchant name (alternate language)", name, maxName, CodeNameAltLength},
		{"merchant city (alternate language)", city, maxCity, CodeCityAltLength},
	} {
		if err := r.check(); err != nil {
			return err
		}
	}
	return nil
}

// currency is Info.Currency, KHR when empty.
func currencyOf(info *Info) Currency {
	if info.Currency == "" {
		return KHR
	}
	return info.Currency
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
	if err := info.Validate(); err != nil {
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
	typ, _ := merchantType(&info)
	var buf [512]byte
	b := buf[:0]
	b = append(b, "000201010211"...)
	if dynamic {
		b[len(b)-1] = '2'
	}
	if info.UPI != "" {
		b = appendTLV(b, "15", info.UPI)
	}
	sub01 := info.AccountInformation
	if typ == Merchant {
		sub01 = info.MerchantID
	}
	b = append(b, typ[0], typ[1])
	b = appendLen(b, templateLen(info.AccountID, sub01, info.AcquiringBank))
	b = appendTLV(b, "00", info.AccountID)
	b = appendOpt(b, "01", sub01)
	b = appendOpt(b, "02", info.AcquiringBank)
	mcc := info.MCC
	if mcc == "" {
		mcc = DefaultMCC
	}
	b = appendTLV(b, "52", mcc)
	b = append(b, "5303"...)
	b = append(b, currencyOf(&info).Code()...)
	if dynamic {
		var buf [24]byte
		a := appendAmount(buf[:0], info.Amount, currencyOf(&info), info.FixedDecimals)
		b = append(appendLen(append(b, "54"...), len(a)), a...)
	}
	b = append(b, "5802KH"...)
	b = appendTLV(b, "59", info.MerchantName)
	city := info.MerchantCity
	if city == "" {
		city = DefaultCity
	}
	b = appendTLV(b, "60", city)
	if n := templateLen(info.BillNumber, info.MobileNumber, info.StoreLabel, info.TerminalLabel, info.Purpose); n > 0 {
		b = appendLen(append(b, "62"...), n)
		b = appendOpt(b, "01", info.BillNumber)
		b = appendOpt(b, "02", info.MobileNumber)
		b = appendOpt(b, "03", info.StoreLabel)
		b = appendOpt(b, "07", info.TerminalLabel)
		b = appendOpt(b, "08", info.Purpose)
	}
	if info.LanguagePreference != "" {
		b = appendLen(append(b, "64"...), templateLen(info.LanguagePreference, info.MerchantNameAlt, info.MerchantCityAlt))
		b = appendTLV(b, "00", info.LanguagePreference)
		b = appendTLV(b, "01", info.MerchantNameAlt)
		b = appendOpt(b, "02", info.MerchantCityAlt)
	}
	if dynamic {
		b = append(b, "99340013"...)
		b = strconv.AppendInt(b, created, 10)
		b = append(b, "0113"...)
		b = strconv.AppendInt(b, expires, 10)
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

// appendOpt appends a TLV unless v is empty.
func appendOpt(b []byte, tag, v string) []byte {
	if v == "" {
		return b
	}
	return appendTLV(b, tag, v)
}
