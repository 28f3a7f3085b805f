package sim

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// Fault is trouble injected into calls of one endpoint: what the gateway, the
// network or the API's odd moods do to a client. Zero fields inject nothing.
// Gateway faults (GeoBlock, ListRefused, RetryAfter, Status) answer before the
// token is checked, as the edge does; the others shape the API's own answer.
type Fault struct {
	// Status answers with this HTTP status: 401 gives the live 401 envelope, 400
	// an errorCode 5 envelope, anything else (500, 502, 503, 504...) an nginx
	// HTML page.
	Status int
	// GeoBlock answers 403 with nginx's HTML page, as production does outside Cambodia.
	GeoBlock bool
	// RetryAfter answers 429 with a Retry-After header of this many seconds (rounded up).
	RetryAfter time.Duration
	// Latency delays the answer; the call ends early when the client gives up.
	Latency time.Duration
	// Ratio applies the fault to this fraction of calls (0 = all), by a fixed
	// pattern: call n is hit when floor(n*Ratio) grows, so 0.5 hits calls 2, 4, 6...
	Ratio float64
	// Count applies the fault to the next Count hit calls only, then clears it
	// (0 = until cleared).
	Count int
	// ListRefused makes the md5_list and hash_list endpoints answer nginx's 403 page.
	ListRefused bool
	// ErrorCode answers HTTP 200 with this errorCode and its message, e.g. 9
	// "Cannot connect to server" or 4 on the deeplink.
	ErrorCode int
	// ServiceFailed lists the md5s or hashes whose list items answer
	// SERVICE_FAILED; "*" is every item.
	ServiceFailed []string
	// AmountAsString writes amounts as strings with the currency's decimals ("1.50").
	AmountAsString bool
	// FloatTimestamps writes createdDateMs and acknowledgedDateMs as floats (1605774370608.0).
	FloatTimestamps bool
	// ItemInline puts a list item's transaction fields in the item itself.
	ItemInline bool
	// ItemUnderTransaction puts a list item's transaction under "transaction" instead of "data".
	ItemUnderTransaction bool
	// ExpireTokens treats every token as expired: check_* answer 401.
	ExpireTokens bool
	// ShortLink makes generate_deeplink_by_qr answer this link instead of a
	// new https one, e.g. a bakong:// link that Telegram refuses in a button.
	ShortLink string
}

// Validate reports whether f is a fault the simulator can play.
func (f Fault) Validate() error {
	var errs []error
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		errs = append(errs, fmt.Errorf("status %d: want 400 to 599", f.Status))
	}
	if f.RetryAfter < 0 || f.Latency < 0 {
		errs = append(errs, errors.New("retry after and latency: want zero or more"))
	}
	if f.Ratio < 0 || f.Ratio > 1 || math.IsNaN(f.Ratio) {
		errs = append(errs, fmt.Errorf("ratio %v: want 0 to 1", f.Ratio))
	}
	if f.Count < 0 {
		errs = append(errs, fmt.Errorf("count %d: want zero or more", f.Count))
	}
	if _, known := messages[f.ErrorCode]; f.ErrorCode != 0 && !known {
		errs = append(errs, fmt.Errorf("errorCode %d: want 1 to 12", f.ErrorCode))
	}
	if f.ItemInline && f.ItemUnderTransaction {
		errs = append(errs, errors.New("item placement: want inline or under transaction, not both"))
	}
	return errors.Join(errs...)
}

// gateway is the answer of a fault that stops the call before the API: ok is
// false when the call goes on.
func (f *Fault) gateway(list bool) (reply, bool) {
	switch {
	case f.GeoBlock, f.ListRefused && list:
		return page(http.StatusForbidden), true
	case f.RetryAfter > 0 || f.Status == http.StatusTooManyRequests:
		r := page(http.StatusTooManyRequests)
		r.retryAfter = int(math.Ceil(f.RetryAfter.Seconds()))
		return r, true
	case f.Status == http.StatusUnauthorized:
		return unauthorized(), true
	case f.Status == http.StatusBadRequest:
		return failAt(http.StatusBadRequest, codeMissing), true
	case f.Status != 0:
		return page(f.Status), true
	}
	return reply{}, false
}

func (f *Fault) shape() shape {
	return shape{amountString: f.AmountAsString, floatTimestamps: f.FloatTimestamps, inline: f.ItemInline, underTx: f.ItemUnderTransaction}
}

func (f *Fault) serviceFailed(key string) bool {
	for _, k := range f.ServiceFailed {
		if k == "*" || k == key {
			return true
		}
	}
	return false
}

// faultState is a set fault and how many calls it has seen and hit.
type faultState struct {
	f    Fault
	seen int
	hit  int
}

// SetFault injects f into the calls of endpoint, named as in the path without
// /v1/ ("check_transaction_by_md5"); "" or "*" is every endpoint. An endpoint's
// own fault replaces the "*" one for its calls; setting a fault again restarts
// its Ratio and Count.
func (s *Server) SetFault(endpoint string, f Fault) error {
	name := strings.TrimPrefix(endpoint, "/v1/")
	if name == "" {
		name = "*"
	}
	if _, known := endpoints["/v1/"+name]; !known && name != "*" {
		return fmt.Errorf("set fault: unknown endpoint %q", endpoint)
	}
	if err := f.Validate(); err != nil {
		return fmt.Errorf("set fault on %s: %w", name, err)
	}
	f.ServiceFailed = append([]string(nil), f.ServiceFailed...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[name] = &faultState{f: f}
	return nil
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// takeFault returns the fault that hits this call of endpoint, or nil.
func (s *Server) takeFault(endpoint string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := endpoint
	st := s.faults[key]
	if st == nil {
		key = "*"
		st = s.faults[key]
	}
	if st == nil {
		return nil
	}
	st.seen++
	if r := st.f.Ratio; r > 0 {
		const eps = 1e-9
		if math.Floor(float64(st.seen)*r+eps) == math.Floor(float64(st.seen-1)*r+eps) {
			return nil
		}
	}
	st.hit++
	if st.f.Count > 0 && st.hit >= st.f.Count {
		delete(s.faults, key)
	}
	f := st.f
	return &f
}
