package bakong

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// simList is a check_transaction_by_md5_list answer as the simulator writes
// one: n items, every other one paid with every transaction field present.
func simList(n int) string {
	items := make([]string, n)
	for i := range items {
		md5 := fmt.Sprintf("%032x", i)
		if i%2 == 1 {
			items[i] = `{"md5":"` + md5 + `","status":"NOT_FOUND","message":"Transaction could not be found. Please check and try again.","data":null}`
			continue
		}
		items[i] = `{"md5":"` + md5 + `","status":"SUCCESS","message":"Getting transaction successfully.","data":{"hash":"` +
			fmt.Sprintf("%064x", i) + `","fromAccountId":"payer@devb","toAccountId":"shop@devb","currency":"USD","amount":` +
			fmt.Sprintf("%d.%02d", 1+i, i%100) + `,"description":"INV-` + fmt.Sprint(i) +
			`","createdDateMs":1768032000000,"acknowledgedDateMs":1768032001000,"trackingStatus":null,"receiverBank":null,` +
			`"receiverBankAccount":null,"instructionRef":null,"externalRef":"100FT` + fmt.Sprintf("%011d", i) + `"}}`
	}
	return `{"responseCode":0,"responseMessage":"Getting transaction data successfully.","errorCode":null,"data":[` +
		strings.Join(items, ",") + `]}`
}

// itemForms is a list answer with the transaction under "data", under
// "transaction" and inline, and every other status.
func itemForms() string {
	inline := `{"status":"SUCCESS","message":"inline",` + strings.Replace(tx("9800", "KHR", "5"), hashA, strings.Repeat("3", 64), 1)[1:]
	return ok(`[
	  {"hash":"` + hashA + `","md5":"` + md5A + `","status":"SUCCESS","message":"under data","data":` + tx("1", "USD", "5") + `},
	  {"hash":"` + strings.Repeat("2", 64) + `","md5":"` + md5B + `","status":"success","transaction":` + tx(`"2.5"`, "USD", "5.0") + `},
	  ` + inline + `,
	  {"hash":"` + strings.Repeat("4", 64) + `","md5":"` + md5C + `","status":"FAILED","message":"failed"},
	  {"md5":"` + strings.Repeat("d", 32) + `","status":"NOT_FOUND","data":null},
	  {"md5":"` + strings.Repeat("e", 32) + `","status":"STATIC_QR"},
	  {"md5":"` + strings.Repeat("f", 32) + `","status":"SERVICE_FAILED","message":"Service unavailable","data":null},
	  {"md5":"` + strings.Repeat("a", 32) + `","status":"WEIRD"},
	  {"md5":"` + strings.Repeat("b", 32) + `","status":"SUCCESS","data":` + tx("1.001", "USD", "1") + `}
	]`)
}

// TestUsualAnswersDecodeOnce checks that answers of the usual shapes,
// leniencies included, take the one-pass path.
func TestUsualAnswersDecodeOnce(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		decode func([]byte) (answer, error)
	}{
		{"doc paid", docPaid, decodeEnvelopeAs[wireTx]},
		{"live paid", docLive, decodeEnvelopeAs[wireTx]},
		{"string amount, float timestamps", ok(tx(`"1.0"`, "USD", "1605774370608.0")), decodeEnvelopeAs[wireTx]},
		{"exponents", ok(tx(`1.0E7`, "KHR", "1.605774370608E12")), decodeEnvelopeAs[wireTx]},
		{"codes as text", `{"responseCode":"0","errorCode":null,"responseMessage":"ok","data":` + tx("1", "USD", "1") + `}`, decodeEnvelopeAs[wireTx]},
		{"simulator list", simList(MaxList), decodeEnvelopeAs[[]wireItem]},
		{"item forms", itemForms(), decodeEnvelopeAs[[]wireItem]},
		{"deeplink", docDeeplink, decodeEnvelopeAs[linkData]},
		{"renew", docRenew, decodeEnvelopeAs[tokenData]},
		{"verify", docVerify, decodeEnvelopeAs[tokenData]},
	}
	for _, tt := range tests {
		a, err := tt.decode([]byte(tt.body))
		if err != nil || a.typed == nil || a.data != nil {
			t.Errorf("%s: typed %v, raw data %q, err %v: want typed data only", tt.name, a.typed != nil, a.data, err)
		}
	}
}

// TestListOddItems checks that a list answer the one-pass decode refuses
// (an item with a field of another type) still reads item by item.
func TestListOddItems(t *testing.T) {
	list := `{"responseCode":0,"responseMessage":200,"errorCode":null,"data":[
	  {"md5":"` + md5A + `","status":"SUCCESS","data":` + tx(`"1,000"`, "KHR", "1") + `},
	  {"md5":"` + md5B + `","status":3,"message":"failed"},
	  {"md5":"` + md5C + `","status":"SUCCESS","message":"ok","data":` + tx(`"1.5"`, "USD", "1605774370608.0") + `},
	  {"md5":"` + strings.Repeat("d", 32) + `","status":"NOT_FOUND","message":7}
	]}`
	_, srv := newFake(t, map[string]reply{"check_transaction_by_md5_list": {body: list}})
	got, err := newClient(t, srv.URL, Options{}).CheckMD5List(ctx, []string{md5A, md5B, md5C, strings.Repeat("d", 32)})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got[:2] {
		if r.Status != ItemServiceFailed || !strings.HasPrefix(r.Message, "bad item in answer: ") || r.Transaction != nil {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	if r := got[2]; r.Status != ItemSuccess || r.Transaction == nil || *r.Transaction != *txWith(150, "USD", 1605774370608) {
		t.Errorf("result 2: %+v", r)
	}
	if r := got[3]; r.Status != ItemServiceFailed || !strings.Contains(r.Message, "message") {
		t.Errorf("result 3: %+v", r)
	}
}

// repeatsKey reports whether body is an object with a key twice (as
// encoding/json matches keys, ignoring case). Repeated keys merge into typed
// data, where the raw path keeps the last; Bakong's Jackson never repeats
// one.
func repeatsKey(body []byte) bool {
	d := json.NewDecoder(strings.NewReader(string(body)))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		k, isKey := tok.(string)
		if err != nil || !isKey {
			return false
		}
		k = strings.ToLower(k)
		if seen[k] {
			return true
		}
		seen[k] = true
		var v json.RawMessage
		if d.Decode(&v) != nil {
			return false
		}
	}
	return false
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// FuzzDecodeOnce checks that the one-pass decode reads every body exactly
// as the lenient two-pass path does: same codes, message, errors, and
// transaction or list results.
func FuzzDecodeOnce(f *testing.F) {
	for _, s := range []string{docPaid, docLive, docNotFound, doc401, nginx403, docDeeplink, docRenew, docMissingFields,
		ok(tx(`"1.0"`, "USD", "1605774370608.0")), ok(tx(`"1,000"`, "KHR", "1")), ok(`null`), ok(`"x"`), ok(`[]`),
		simList(3), itemForms(), `{"responseCode":"1","errorCode":1.0,"responseMessage":5,"data":null}`,
		ok(`[{"md5":"` + md5A + `","status":"SUCCESS","data":` + tx("1", "USD", "1") + `},7]`), `{"data":[]}`, `[1]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		b := []byte(body)
		if repeatsKey(b) {
			return
		}
		raw, rawErr := decodeEnvelope(b)
		same := func(shape string, a answer, err error) bool {
			if errText(err) != errText(rawErr) || errors.Is(err, errNotJSON) != errors.Is(rawErr, errNotJSON) ||
				a.responseCode != raw.responseCode || a.errorCode != raw.errorCode || a.message != raw.message {
				t.Fatalf("%s: %+v, %v\nraw: %+v, %v", shape, a, err, raw, rawErr)
			}
			return err == nil
		}
		if a, err := decodeEnvelopeAs[wireTx](b); same("transaction", a, err) {
			got, gerr := transactionOf(a)
			want, werr := decodeTransaction(raw.data)
			if errText(gerr) != errText(werr) || !reflect.DeepEqual(got, want) {
				t.Fatalf("transaction %+v, %v; raw %+v, %v", got, gerr, want, werr)
			}
		}
		if a, err := decodeEnvelopeAs[[]wireItem](b); same("list", a, err) {
			for _, field := range []string{"md5", "hash"} {
				got, gerr := itemsOf(a, field)
				want, werr := decodeItems(raw.data, field)
				if errText(gerr) != errText(werr) || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s items %+v, %v; raw %+v, %v", field, got, gerr, want, werr)
				}
			}
		}
		if a, err := decodeEnvelopeAs[linkData](b); same("deeplink", a, err) {
			got, gerr := dataAs[linkData](a)
			want, werr := dataAs[linkData](raw)
			if errText(gerr) != errText(werr) || got != want {
				t.Fatalf("deeplink %+v, %v; raw %+v, %v", got, gerr, want, werr)
			}
		}
	})
}

// BenchmarkDecodeList50 decodes a 50-item list answer, envelope to
// results: in one pass as checkList does, and in the lenient two passes
// that answers of another shape take.
func BenchmarkDecodeList50(b *testing.B) {
	body := []byte(simList(MaxList))
	for _, bb := range []struct {
		name   string
		decode func([]byte) (answer, error)
	}{{"once", decodeEnvelopeAs[[]wireItem]}, {"lenient", decodeEnvelope}} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				a, err := bb.decode(body)
				if err != nil {
					b.Fatal(err)
				}
				if got, err := itemsOf(a, "md5"); err != nil || len(got) != MaxList {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}
