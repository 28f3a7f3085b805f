package khqr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// vector is one entry of testdata/vectors.json, produced by running
// bakong-khqr 1.0.20, NBC's JavaScript SDK.
type vector struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	Description string          `json:"description"`
	Type        string          `json:"type"`
	NowMS       int64           `json:"now_ms"`
	Input       json.RawMessage `json:"input"`
	QR          *string         `json:"qr"`
	MD5         string          `json:"md5"`
	Decode      json.RawMessage `json:"decode"`
	VerifyNow   *bool           `json:"verify_at_now"`
	VerifyAfter *bool           `json:"verify_after_expiry"`
	Verify      *bool           `json:"verify"`
	Error       *struct {
		ErrorCode int    `json:"errorCode"`
		Message   string `json:"message"`
		Thrown    string `json:"thrown"`
	} `json:"error"`
	Detail struct {
		IsValid   bool   `json:"isValid"`
		ErrorCode int    `json:"errorCode"`
		Message   string `json:"message"`
	} `json:"ts_khqr_verifyDetail"`
	TLV []struct {
		Tag   string `json:"tag"`
		Value string `json:"value"`
	} `json:"tlv"`
}

func (v *vector) now() time.Time { return time.UnixMilli(v.NowMS) }

var (
	vectorsOnce sync.Once
	vectorsAll  []vector
	vectorsErr  error
)

// loadVectors reads testdata/vectors.json once.
func loadVectors(t testing.TB) []vector {
	t.Helper()
	vectorsOnce.Do(func() {
		b, err := os.ReadFile("testdata/vectors.json")
		if err != nil {
			vectorsErr = err
			return
		}
		vectorsErr = json.Unmarshal(b, &vectorsAll)
	})
	if vectorsErr != nil {
		t.Fatalf("load vectors: %v", vectorsErr)
	}
	return vectorsAll
}

// vectorsOf returns the vectors of one kind.
func vectorsOf(t testing.TB, kind string) []vector {
	var out []vector
	for _, v := range loadVectors(t) {
		if v.Kind == kind {
			out = append(out, v)
		}
	}
	return out
}

// errUnrepresentable marks an SDK input that a typed Go API cannot express.
var errUnrepresentable = errors.New("not representable in Info")

// sdkInput is a vector's input, numbers kept as written.
type sdkInput struct {
	BakongAccountID any            `json:"bakongAccountID"`
	MerchantName    any            `json:"merchantName"`
	MerchantCity    any            `json:"merchantCity"`
	MerchantID      any            `json:"merchantID"`
	AcquiringBank   any            `json:"acquiringBank"`
	Optional        map[string]any `json:"optional"`
}

// infoFromInput maps the SDK's JavaScript input to Info the way a careful
// caller would:
//   - null, "" and absent are all "" (the SDK's constructors drop them);
//   - a number where a string goes is its decimal text (JavaScript's String);
//   - currency 116/840 (number or string) is KHR/USD, 0 is dropped (so KHR),
//     anything else is kept as an unknown Currency for Encode to reject;
//   - the amount goes through ParseAmount, as a caller holding a decimal must.
//     A string with a point sets FixedDecimals (the SDK writes "5.00" for the
//     string, "5" for the number). When ParseAmount refuses it (1.005, -1,
//     1e-7, "abc", KHR 100.5) the amount becomes -1, which Encode refuses
//     with the same code 4 at the same point of the SDK's order, so that an
//     earlier error (err-order-first-wins) is still the one reported;
//   - expirationTimestamp is milliseconds; 0 and non-numbers ("tomorrow",
//     NaN for JavaScript, which the SDK treats as absent) are no expiration.
//
// A value of another JSON type (an object as the merchant name) cannot be
// expressed: errUnrepresentable.
func infoFromInput(typ string, raw json.RawMessage) (Info, error) {
	var in sdkInput
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return Info{}, err
	}
	var info Info
	var err error
	str := func(name string, v any) string {
		switch v := v.(type) {
		case nil:
			return ""
		case string:
			return v
		case json.Number:
			return v.String()
		}
		if err == nil {
			err = fmt.Errorf("%s is a JSON %T: %w", name, v, errUnrepresentable)
		}
		return ""
	}
	opt := in.Optional
	switch typ {
	case "individual":
		info.Type = Individual
		info.AccountInformation = str("accountInformation", opt["accountInformation"])
		info.AcquiringBank = str("acquiringBank", opt["acquiringBank"])
	case "merchant":
		info.Type = Merchant
		info.MerchantID = str("merchantID", in.MerchantID)
		info.AcquiringBank = str("acquiringBank", in.AcquiringBank)
	default:
		return Info{}, fmt.Errorf("type %q", typ)
	}
	info.AccountID = str("bakongAccountID", in.BakongAccountID)
	info.MerchantName = str("merchantName", in.MerchantName)
	info.MerchantCity = str("merchantCity", in.MerchantCity)
	info.MCC = str("merchantCategoryCode", opt["merchantCategoryCode"])
	info.UPI = str("upiMerchantAccount", opt["upiMerchantAccount"])
	info.BillNumber = str("billNumber", opt["billNumber"])
	info.MobileNumber = str("mobileNumber", opt["mobileNumber"])
	info.StoreLabel = str("storeLabel", opt["storeLabel"])
	info.TerminalLabel = str("terminalLabel", opt["terminalLabel"])
	info.Purpose = str("purposeOfTransaction", opt["purposeOfTransaction"])
	info.LanguagePreference = str("languagePreference", opt["languagePreference"])
	info.MerchantNameAlt = str("merchantNameAlternateLanguage", opt["merchantNameAlternateLanguage"])
	info.MerchantCityAlt = str("merchantCityAlternateLanguage", opt["merchantCityAlternateLanguage"])
	switch c := str("currency", opt["currency"]); c {
	case "", "0":
	case "116":
		info.Currency = KHR
	case "840":
		info.Currency = USD
	default:
		info.Currency = Currency(c)
	}
	if a := opt["amount"]; a != nil {
		s := str("amount", a)
		_, isString := a.(string)
		cur := info.Currency
		if cur == "" {
			cur = KHR
		}
		n, perr := ParseAmount(s, cur)
		switch {
		case perr != nil:
			info.Amount = -1
		default:
			info.Amount = n
			info.FixedDecimals = isString && strings.Contains(s, ".")
		}
	}
	if e := str("expirationTimestamp", opt["expirationTimestamp"]); e != "" {
		if ms, perr := strconv.ParseInt(e, 10, 64); perr == nil && ms != 0 {
			info.ExpiresAt = time.UnixMilli(ms)
		}
	}
	return info, err
}
