package khqr

import (
	"fmt"
	"time"
)

// Currency is an ISO 4217 alphabetic currency code accepted by KHQR.
// Amounts travel with it as integer minor units: cents for USD, riel for KHR.
type Currency string

// The two currencies KHQR supports.
const (
	KHR Currency = "KHR"
	USD Currency = "USD"
)

// Code returns the ISO 4217 numeric code written in tag 53 ("116" or "840").
func (c Currency) Code() string {
	switch c {
	case KHR:
		return "116"
	case USD:
		return "840"
	}
	return ""
}

// Decimals returns how many fraction digits the currency's minor unit has:
// KHR has none, USD two.
func (c Currency) Decimals() int {
	if c == USD {
		return 2
	}
	return 0
}

// Validate reports whether c is KHR or USD.
func (c Currency) Validate() error {
	if c != KHR && c != USD {
		return fmt.Errorf("currency %q: want KHR or USD", string(c))
	}
	return nil
}

// ParseCurrency reads "KHR"/"USD" (any case) or the numeric codes "116"/"840".
func ParseCurrency(s string) (Currency, error) {
	switch s {
	case "KHR", "khr", "Khr", "116":
		return KHR, nil
	case "USD", "usd", "Usd", "840":
		return USD, nil
	}
	return "", fmt.Errorf("currency %q: want KHR or USD", s)
}

// MerchantType selects the account template: tag 29 (individual) or tag 30 (merchant).
type MerchantType string

// The two KHQR account templates.
const (
	Individual MerchantType = "29"
	Merchant   MerchantType = "30"
)

// Info is everything a KHQR can carry. Empty strings are absent fields; an Amount
// of zero makes a static QR (no tag 54, no tag 99), any other amount a dynamic one.
//
// The SDK writes a whole dollar amount in two ways: "5" when given the number 5,
// "5.00" when given the string "5.00". Both are the same payment but not the same
// bytes, hence not the same md5. FixedDecimals picks the second form; it changes
// nothing for KHR or for amounts with cents ("10.50" either way).
type Info struct {
	Type               MerchantType // empty: Merchant when MerchantID is set, else Individual
	AccountID          string       // Bakong account, name@bank (tag 29/30 sub 00)
	AccountInformation string       // individual only (tag 29 sub 01)
	MerchantID         string       // merchant only (tag 30 sub 01)
	AcquiringBank      string       // tag 29/30 sub 02
	MerchantName       string       // tag 59
	MerchantCity       string       // tag 60; "Phnom Penh" when empty
	MCC                string       // tag 52; "5999" when empty
	UPI                string       // tag 15; KHR only
	Currency           Currency     // tag 53; KHR when empty
	Amount             int64        // minor units of Currency; 0 = static
	FixedDecimals      bool         // USD only: write a whole amount as "5.00", not "5" (see above)
	BillNumber         string       // tag 62 sub 01
	MobileNumber       string       // tag 62 sub 02
	StoreLabel         string       // tag 62 sub 03
	TerminalLabel      string       // tag 62 sub 07
	Purpose            string       // tag 62 sub 08
	LanguagePreference string       // tag 64 sub 00
	MerchantNameAlt    string       // tag 64 sub 01
	MerchantCityAlt    string       // tag 64 sub 02
	ExpiresAt          time.Time    // tag 99 sub 01; required for a dynamic QR
}

// QR is an encoded KHQR payload and the md5 Bakong knows it by.
type QR struct {
	String string // the payload, CRC included
	MD5    string // lower-case hex md5 of String's UTF-8 bytes
}
