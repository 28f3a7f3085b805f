package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

// control serves the control API under /_sim/ (see the package documentation).
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	type route struct {
		method string
		handle func(*http.Request) (any, error)
	}
	routes := map[string][]route{
		"/_sim/register": {{http.MethodPost, s.ctlRegister}},
		"/_sim/pay":      {{http.MethodPost, s.ctlPay}},
		"/_sim/fail":     {{http.MethodPost, s.ctlFail}},
		"/_sim/token":    {{http.MethodPost, s.ctlToken}},
		"/_sim/codes":    {{http.MethodGet, s.ctlCode}},
		"/_sim/calls": {
			{http.MethodGet, func(*http.Request) (any, error) { return s.Calls(), nil }},
			{http.MethodDelete, func(*http.Request) (any, error) { s.ResetCalls(); return nil, nil }},
		},
		"/_sim/faults": {
			{http.MethodPost, s.ctlFault},
			{http.MethodDelete, func(*http.Request) (any, error) { s.ClearFaults(); return nil, nil }},
		},
	}
	rs, known := routes[r.URL.Path]
	if !known {
		writeJSON(w, http.StatusNotFound, ctlError{fmt.Sprintf("no control endpoint %s", r.URL.Path)})
		return
	}
	for _, rt := range rs {
		if rt.method != r.Method {
			continue
		}
		v, err := rt.handle(r)
		switch {
		case err != nil:
			writeJSON(w, ctlStatus(err), ctlError{err.Error()})
		case v == nil:
			w.WriteHeader(http.StatusNoContent)
		default:
			writeJSON(w, http.StatusOK, v)
		}
		return
	}
	writeJSON(w, http.StatusMethodNotAllowed, ctlError{fmt.Sprintf("%s %s: method not allowed", r.Method, r.URL.Path)})
}

type ctlError struct {
	Error string `json:"error"`
}

// errNoSuch marks control requests for things the simulator does not have.
var errNoSuch = errors.New("no such thing")

func ctlStatus(err error) int {
	switch {
	case errors.Is(err, ErrUnknownMD5), errors.Is(err, errNoSuch):
		return http.StatusNotFound
	case errors.Is(err, ErrSettled):
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// readJSON decodes a control request strictly, so that typos fail loudly.
func readJSON(r *http.Request, v any) error {
	var b bytes.Buffer
	if _, err := b.ReadFrom(http.MaxBytesReader(nil, r.Body, maxBody)); err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	d := json.NewDecoder(&b)
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("JSON body: %w", err)
	}
	return nil
}

// registered is the answer of POST /_sim/register: the md5 and what the QR asks for.
type registered struct {
	MD5         string `json:"md5"`
	Static      bool   `json:"static"`
	Amount      string `json:"amount,omitempty"` // decimal, major units
	Currency    string `json:"currency"`
	ToAccount   string `json:"toAccount"`
	ExpiresAtMs int64  `json:"expiresAtMs,omitempty"`
}

func (s *Server) ctlRegister(r *http.Request) (any, error) {
	var in struct {
		QR string `json:"qr"`
	}
	if err := readJSON(r, &in); err != nil {
		return nil, err
	}
	q, err := decodeQR(in.QR)
	if err != nil {
		return nil, fmt.Errorf("register QR: %w", err)
	}
	s.mu.Lock()
	s.register(q)
	s.mu.Unlock()
	out := registered{MD5: q.md5, Static: q.static, Currency: string(q.currency), ToAccount: q.account}
	if !q.static {
		out.Amount = formatMajor(q.amount, q.currency.Decimals(), true)
	}
	if !q.expiresAt.IsZero() {
		out.ExpiresAtMs = q.expiresAt.UnixMilli()
	}
	return out, nil
}

// payRequest is the body of POST /_sim/pay.
type payRequest struct {
	MD5            string `json:"md5"`
	QR             string `json:"qr"`
	Amount         string `json:"amount"` // decimal, major units: "5", "10.50", "50000"
	Currency       string `json:"currency"`
	ToAccount      string `json:"toAccount"`
	FromAccount    string `json:"fromAccount"`
	CreatedAtMs    int64  `json:"createdAtMs"`
	Description    string `json:"description"`
	InstructionRef string `json:"instructionRef"`
}

func (s *Server) ctlPay(r *http.Request) (any, error) {
	var in payRequest
	if err := readJSON(r, &in); err != nil {
		return nil, err
	}
	if (in.MD5 == "") == (in.QR == "") {
		return nil, errors.New("pay: give exactly one of md5 and qr")
	}
	p := Payment{
		Currency:       in.Currency,
		ToAccount:      in.ToAccount,
		FromAccount:    in.FromAccount,
		Description:    in.Description,
		InstructionRef: in.InstructionRef,
	}
	if in.CreatedAtMs != 0 {
		p.CreatedAt = time.UnixMilli(in.CreatedAtMs)
	}
	if in.Amount != "" {
		c := khqr.Currency(in.Currency)
		if c == "" {
			c = s.currencyOf(in.MD5, in.QR)
		}
		amount, err := parseMajor(in.Amount, c.Decimals())
		if err != nil {
			return nil, fmt.Errorf("pay: %w", err)
		}
		p.Amount = amount
	}
	var (
		t   *bakong.Transaction
		err error
	)
	if in.QR != "" {
		t, err = s.PayQR(in.QR, p)
	} else {
		t, err = s.PayMD5(in.MD5, p)
	}
	if err != nil {
		return nil, err
	}
	return encodeTx(t, shape{}), nil
}

// currencyOf is the currency of the QR being paid, so an amount without a
// currency is read in the QR's; KHR when unknown, as KHQR defaults.
func (s *Server) currencyOf(md5, qr string) khqr.Currency {
	if qr != "" {
		if q, err := decodeQR(qr); err == nil {
			return q.currency
		}
		return khqr.KHR
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.qrs[md5]; q != nil && q.currency != "" {
		return q.currency
	}
	return khqr.KHR
}

func (s *Server) ctlFail(r *http.Request) (any, error) {
	var in struct {
		MD5 string `json:"md5"`
	}
	if err := readJSON(r, &in); err != nil {
		return nil, err
	}
	if in.MD5 == "" {
		return nil, errors.New("fail: give md5")
	}
	if err := s.Fail(in.MD5); err != nil {
		return nil, err
	}
	return map[string]string{"md5": in.MD5, "status": "FAILED"}, nil
}

func (s *Server) ctlToken(r *http.Request) (any, error) {
	var in struct {
		Email string `json:"email"`
	}
	if err := readJSON(r, &in); err != nil {
		return nil, err
	}
	if in.Email == "" {
		return nil, errors.New("token: give email")
	}
	return map[string]string{"token": s.IssueToken(in.Email)}, nil
}

func (s *Server) ctlCode(r *http.Request) (any, error) {
	email := r.URL.Query().Get("email")
	code, sent := s.LastCode(email)
	if !sent {
		return nil, fmt.Errorf("codes: no code sent to %q: %w", email, errNoSuch)
	}
	return map[string]string{"email": email, "code": code}, nil
}

// faultRequest is the body of POST /_sim/faults: a Fault with durations in milliseconds.
type faultRequest struct {
	Endpoint             string   `json:"endpoint"`
	Status               int      `json:"status"`
	GeoBlock             bool     `json:"geoBlock"`
	RetryAfterMs         int64    `json:"retryAfterMs"`
	LatencyMs            int64    `json:"latencyMs"`
	Ratio                float64  `json:"ratio"`
	Count                int      `json:"count"`
	ListRefused          bool     `json:"listRefused"`
	ErrorCode            int      `json:"errorCode"`
	ServiceFailed        []string `json:"serviceFailed"`
	AmountAsString       bool     `json:"amountAsString"`
	FloatTimestamps      bool     `json:"floatTimestamps"`
	ItemInline           bool     `json:"itemInline"`
	ItemUnderTransaction bool     `json:"itemUnderTransaction"`
	ExpireTokens         bool     `json:"expireTokens"`
}

func (s *Server) ctlFault(r *http.Request) (any, error) {
	var in faultRequest
	if err := readJSON(r, &in); err != nil {
		return nil, err
	}
	f := Fault{
		Status:               in.Status,
		GeoBlock:             in.GeoBlock,
		RetryAfter:           time.Duration(in.RetryAfterMs) * time.Millisecond,
		Latency:              time.Duration(in.LatencyMs) * time.Millisecond,
		Ratio:                in.Ratio,
		Count:                in.Count,
		ListRefused:          in.ListRefused,
		ErrorCode:            in.ErrorCode,
		ServiceFailed:        in.ServiceFailed,
		AmountAsString:       in.AmountAsString,
		FloatTimestamps:      in.FloatTimestamps,
		ItemInline:           in.ItemInline,
		ItemUnderTransaction: in.ItemUnderTransaction,
		ExpireTokens:         in.ExpireTokens,
	}
	if err := s.SetFault(in.Endpoint, f); err != nil {
		return nil, err
	}
	return nil, nil
}
