package khqr

import (
	"errors"
	"strconv"
	"strings"
)

// SDK error codes (bakong-khqr 1.0.20), carried by Error.Code. The network
// codes 13-15 and 29 and the never-raised 36-37 are left out.
const (
	CodeNone                     = 0  // a rule of ours that the SDK does not have
	CodeAccountRequired          = 1  // Bakong Account ID cannot be null or empty
	CodeNameRequired             = 2  // Merchant name cannot be null or empty
	CodeAccountInvalid           = 3  // Bakong Account ID is invalid
	CodeAmountInvalid            = 4  // Amount is invalid
	CodeMerchantTypeRequired     = 5  // Merchant type cannot be null or empty
	CodeAccountLength            = 6  // Bakong Account ID Length is Invalid
	CodeNameLength               = 7  // Merchant Name Length is invalid
	CodeInvalid                  = 8  // KHQR provided is invalid
	CodeCurrencyRequired         = 9  // Currency type cannot be null or empty
	CodeBillLength               = 10 // Bill Name Length is invalid
	CodeStoreLength              = 11 // Store Label Length is invalid
	CodeTerminalLength           = 12 // Terminal Label Length is invalid
	CodePayloadFormatLength      = 16 // Payload Format indicator Length is invalid
	CodePOILength                = 17 // Point of initiation Length is invalid
	CodeMCCLength                = 18 // Merchant code Length is invalid
	CodeCurrencyLength           = 19 // Transaction currency Length is invalid
	CodeCountryLength            = 20 // Country code Length is invalid
	CodeCityLength               = 21 // Merchant city Length is invalid
	CodeCRCLength                = 22 // CRC Length is invalid
	CodePayloadFormatRequired    = 23 // Payload format indicator tag required
	CodeCRCRequired              = 24 // CRC tag required
	CodeMCCRequired              = 25 // Merchant category tag required
	CodeCountryRequired          = 26 // Country Code cannot be null or empty
	CodeCityRequired             = 27 // Merchant City cannot be null or empty
	CodeUnsupportedCurrency      = 28 // Unsupported currency
	CodeMerchantIDRequired       = 30 // Merchant ID cannot be null or empty
	CodeAcquiringBankRequired    = 31 // Acquiring Bank cannot be null or empty
	CodeMerchantIDLength         = 32 // Merchant ID Length is invalid
	CodeAcquiringBankLength      = 33 // Acquiring Bank Length is invalid
	CodeMobileLength             = 34 // Mobile Number Length is invalid
	CodeAccountInformationLength = 35 // Account Information Length is invalid
	CodeLanguageLength           = 38 // Language Preference Length is invalid
	CodeNameAltRequired          = 39 // Merchant Name Alternate Language cannot be null or empty
	CodeNameAltLength            = 40 // Merchant Name Alternate Language Length is invalid
	CodeCityAltLength            = 41 // Merchant City Alternate Language Length is invalid
	CodePurposeLength            = 42 // Purpose of Transaction Length is invalid
	CodeUPILength                = 43 // Upi Account Information Length is invalid
	CodeUPICurrency              = 44 // Upi Account Information Length does not accept USD
	CodeExpirationRequired       = 45 // Expiration timestamp is required for dynamic KHQR
	CodeExpired                  = 46 // This dynamic KHQR has expired
	CodeDynamicAmount            = 47 // This dynamic KHQR has invalid field transaction amount
	CodePOIInvalid               = 48 // Point of Initiation Method is invalid
	CodeExpirationLength         = 49 // Expiration timestamp length is invalid
	CodeExpirationPast           = 50 // Expiration timestamp is in the past
	CodeMCCInvalid               = 51 // Invalid merchant category code
)

// sdkMessages holds the SDK's message for each code, verbatim.
var sdkMessages = map[int]string{
	CodeAccountRequired:          "Bakong Account ID cannot be null or empty",
	CodeNameRequired:             "Merchant name cannot be null or empty",
	CodeAccountInvalid:           "Bakong Account ID is invalid",
	CodeAmountInvalid:            "Amount is invalid",
	CodeMerchantTypeRequired:     "Merchant type cannot be null or empty",
	CodeAccountLength:            "Bakong Account ID Length is Invalid",
	CodeNameLength:               "Merchant Name Length is invalid",
	CodeInvalid:                  "KHQR provided is invalid",
	CodeCurrencyRequired:         "Currency type cannot be null or empty",
	CodeBillLength:               "Bill Name Length is invalid",
	CodeStoreLength:              "Store Label Length is invalid",
	CodeTerminalLength:           "Terminal Label Length is invalid",
	CodePayloadFormatLength:      "Payload Format indicator Length is invalid",
	CodePOILength:                "Point of initiation Length is invalid",
	CodeMCCLength:                "Merchant code Length is invalid",
	CodeCurrencyLength:           "Transaction currency Length is invalid",
	CodeCountryLength:            "Country code Length is invalid",
	CodeCityLength:               "Merchant city Length is invalid",
	CodeCRCLength:                "CRC Length is invalid",
	CodePayloadFormatRequired:    "Payload format indicator tag required",
	CodeCRCRequired:              "CRC tag required",
	CodeMCCRequired:              "Merchant category tag required",
	CodeCountryRequired:          "Country Code cannot be null or empty",
	CodeCityRequired:             "Merchant City cannot be null or empty",
	CodeUnsupportedCurrency:      "Unsupported currency",
	CodeMerchantIDRequired:       "Merchant ID cannot be null or empty",
	CodeAcquiringBankRequired:    "Acquiring Bank cannot be null or empty",
	CodeMerchantIDLength:         "Merchant ID Length is invalid",
	CodeAcquiringBankLength:      "Acquiring Bank Length is invalid",
	CodeMobileLength:             "Mobile Number Length is invalid",
	CodeAccountInformationLength: "Account Information Length is invalid",
	CodeLanguageLength:           "Language Preference Length is invalid",
	CodeNameAltRequired:          "Merchant Name Alternate Language cannot be null or empty",
	CodeNameAltLength:            "Merchant Name Alternate Language Length is invalid",
	CodeCityAltLength:            "Merchant City Alternate Language Length is invalid",
	CodePurposeLength:            "Purpose of Transaction Length is invalid",
	CodeUPILength:                "Upi Account Information Length is invalid",
	CodeUPICurrency:              "Upi Account Information Length does not accept USD",
	CodeExpirationRequired:       "Expiration timestamp is required for dynamic KHQR",
	CodeExpired:                  "This dynamic KHQR has expired",
	CodeDynamicAmount:            "This dynamic KHQR has invalid field transaction amount",
	CodePOIInvalid:               "Point of Initiation Method is invalid",
	CodeExpirationLength:         "Expiration timestamp length is invalid",
	CodeExpirationPast:           "Expiration timestamp is in the past",
	CodeMCCInvalid:               "Invalid merchant category code",
}

// Error is every error of this package. Code and Message are the SDK's, so a
// caller can match them against bakong-khqr; Code 0 marks a rule of ours
// (a stricter check, or an input the SDK turns into a broken QR), with our
// own Message. Field, Offset and Detail say where and what was expected.
type Error struct {
	Code    int    // SDK error code (Code* constants), 0 when the SDK has none
	Message string // the SDK's message for Code, verbatim; ours when Code is 0
	Field   string // what is wrong: "tag 62.07", "amount"...; may be empty
	Offset  int    // byte offset in the QR string, -1 when not about a position
	Detail  string // what was found and what was expected; may be empty
}

// Error formats e as "khqr: MESSAGE (code N): FIELD at offset N: DETAIL".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("khqr: ")
	b.WriteString(e.Message)
	if e.Code != CodeNone {
		b.WriteString(" (code ")
		b.WriteString(strconv.Itoa(e.Code))
		b.WriteByte(')')
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	if e.Offset >= 0 {
		if e.Field == "" {
			b.WriteByte(':')
		}
		b.WriteString(" at offset ")
		b.WriteString(strconv.Itoa(e.Offset))
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// ErrorCode returns the SDK code of err when it is (or wraps) an *Error,
// and -1 otherwise.
func ErrorCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return -1
}

// sdkErr builds an error carrying an SDK code and its verbatim message.
func sdkErr(code int, field, detail string) *Error {
	return &Error{Code: code, Message: sdkMessages[code], Field: field, Offset: -1, Detail: detail}
}

// ourErr builds an error for a rule the SDK does not have.
func ourErr(field, msg string) *Error {
	return &Error{Code: CodeNone, Message: msg, Field: field, Offset: -1}
}
