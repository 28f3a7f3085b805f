package sim

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

// endpoint is one path of the Open API. Handlers run with s.mu held.
type endpoint struct {
	name   string
	auth   bool // a valid bearer token is required
	list   bool // md5_list or hash_list
	handle func(s *Server, body []byte, f Fault) reply
}

// endpoints maps each path to its endpoint.
var endpoints = map[string]endpoint{
	"/v1/request_token":                        {name: "request_token", handle: (*Server).requestToken},
	"/v1/verify":                               {name: "verify", handle: (*Server).verify},
	"/v1/renew_token":                          {name: "renew_token", handle: (*Server).renewToken},
	"/v1/generate_deeplink_by_qr":              {name: "generate_deeplink_by_qr", handle: (*Server).deeplink},
	"/v1/check_transaction_by_md5":             {name: "check_transaction_by_md5", auth: true, handle: (*Server).checkMD5},
	"/v1/check_transaction_by_hash":            {name: "check_transaction_by_hash", auth: true, handle: (*Server).checkHash},
	"/v1/check_transaction_by_short_hash":      {name: "check_transaction_by_short_hash", auth: true, handle: (*Server).checkShortHash},
	"/v1/check_transaction_by_instruction_ref": {name: "check_transaction_by_instruction_ref", auth: true, handle: (*Server).checkInstructionRef},
	"/v1/check_transaction_by_external_ref":    {name: "check_transaction_by_external_ref", auth: true, handle: (*Server).checkExternalRef},
	"/v1/check_transaction_by_md5_list":        {name: "check_transaction_by_md5_list", auth: true, list: true, handle: (*Server).checkMD5List},
	"/v1/check_transaction_by_hash_list":       {name: "check_transaction_by_hash_list", auth: true, list: true, handle: (*Server).checkHashList},
	"/v1/check_bakong_account":                 {name: "check_bakong_account", handle: (*Server).checkAccount},
	"/v1/check_account_exist":                  {name: "check_account_exist", handle: (*Server).checkAccount},
}

// maxList is the most items a list check takes.
const maxList = 50

func (s *Server) requestToken(body []byte, _ Fault) reply {
	var in struct {
		Email        string `json:"email"`
		Organization string `json:"organization"`
		Project      string `json:"project"`
	}
	if rep, ok := decodeBody(body, &in); !ok {
		return rep
	}
	if in.Email == "" || len(in.Email) > 30 || in.Organization == "" || len(in.Organization) > 100 ||
		in.Project == "" || len(in.Project) > 100 {
		return fail(codeMissing)
	}
	if s.emails[in.Email] {
		return fail(codeRegistered)
	}
	if old, sent := s.codes[in.Email]; sent {
		delete(s.pending, old)
	}
	code := s.newCode()
	s.codes[in.Email] = code
	s.pending[code] = in.Email
	return ok(msgEmailSent, nil)
}

func (s *Server) verify(body []byte, _ Fault) reply {
	var in struct {
		Code string `json:"code"`
	}
	if rep, ok := decodeBody(body, &in); !ok {
		return rep
	}
	if len(in.Code) != 20 {
		return fail(codeMissing)
	}
	email, found := s.pending[in.Code]
	if !found {
		return unauthorized()
	}
	delete(s.pending, in.Code)
	return tokenReply(s.issue(email))
}

func tokenReply(tok string) reply {
	return ok(msgToken, mustJSON(map[string]string{"token": tok}))
}

func (s *Server) renewToken(body []byte, _ Fault) reply {
	var in struct {
		Email string `json:"email"`
	}
	if rep, ok := decodeBody(body, &in); !ok {
		return rep
	}
	if in.Email == "" {
		return fail(codeMissing)
	}
	tok, registered := s.renew(in.Email)
	if !registered {
		return fail(codeNotRegistered)
	}
	return tokenReply(tok)
}

func (s *Server) deeplink(body []byte, f Fault) reply {
	var in struct {
		QR         string `json:"qr"`
		SourceInfo *struct {
			AppIconURL          string `json:"appIconUrl"`
			AppName             string `json:"appName"`
			AppDeepLinkCallback string `json:"appDeepLinkCallback"`
		} `json:"sourceInfo"`
	}
	if rep, ok := decodeBody(body, &in); !ok {
		return rep
	}
	if in.QR == "" {
		return fail(codeMissing)
	}
	if si := in.SourceInfo; si != nil && (si.AppIconURL == "" || si.AppName == "" || si.AppDeepLinkCallback == "") {
		return fail(codeMissing)
	}
	if _, err := decodeQR(in.QR); err != nil {
		return fail(codeMissing)
	}
	if f.ShortLink != "" {
		s.links[f.ShortLink] = in.QR
		return ok(msgDeeplink, mustJSON(map[string]string{"shortLink": f.ShortLink}))
	}
	return ok(msgDeeplink, mustJSON(map[string]string{"shortLink": s.newLink(in.QR)}))
}

// newLink returns a short link to qr never given before, like the Firebase
// links of the real service.
func (s *Server) newLink(qr string) string {
	for {
		link := "https://bakongsim.page.link/" + s.word(17)
		if _, taken := s.links[link]; !taken {
			s.links[link] = qr
			return link
		}
	}
}

// LinkQR returns the KHQR a deeplink it gave opens in the payer's bank app,
// and whether it gave that link.
func (s *Server) LinkQR(link string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	qr, ok := s.links[link]
	return qr, ok
}

// found answers a single check: the transaction, or not found.
func found(t *bakong.Transaction, f Fault) reply {
	if t == nil {
		return fail(codeNotFound)
	}
	return ok(msgTransaction, encodeTx(t, f.shape()))
}

func (s *Server) checkMD5(body []byte, f Fault) reply {
	var in struct {
		MD5 string `json:"md5"`
	}
	if rep, ok := decodeBody(body, &in); !ok {
		return rep
	}
	if in.MD5 == "" {
		return fail(codeMissing)
	}
	t, st := s.lookupMD5(in.MD5)
	if st == bakong.ItemFailed {
		return fail(codeFailed)
	}
	return found(t, f)
}

func (s *Server) checkHash(body []byte, f Fault) reply {
	var in struct {
		Hash string `json:"hash"`
	}
	if rep, ok := decodeBody(body, &in); !ok {
		return rep
	}
	if in.Hash == "" {
		return fail(codeMissing)
	}
	return found(s.byHash[in.Hash], f)
}

func (s *Server) checkShortHash(body []byte, f Fault) reply {
	var in struct {
		Hash     string      `json:"hash"`
		Amount   json.Number `json:"amount"`
		Currency string      `json:"currency"`
	}
	if rep, ok := decodeBody(body, &in); !ok {
		return rep
	}
	c := khqr.Currency(in.Currency)
	if len(in.Hash) != 8 || in.Amount == "" || c.Validate() != nil {
		return fail(codeMissing)
	}
	t := s.byShort[in.Hash]
	amount, err := parseMajor(in.Amount.String(), c.Decimals())
	if t == nil || err != nil || t.Amount != amount || t.Currency != in.Currency {
		return fail(codeNotFound)
	}
	return found(t, f)
}

func (s *Server) checkInstructionRef(body []byte, f Fault) reply {
	var in struct {
		Ref string `json:"instructionRef"`
	}
	if rep, ok := decodeBody(body, &in); !ok {
		return rep
	}
	if in.Ref == "" {
		return fail(codeMissing)
	}
	return found(s.byInstruction[in.Ref], f)
}

func (s *Server) checkExternalRef(body []byte, f Fault) reply {
	var in struct {
		Ref string `json:"externalRef"`
	}
	if rep, ok := decodeBody(body, &in); !ok {
		return rep
	}
	if in.Ref == "" {
		return fail(codeMissing)
	}
	return found(s.byExternal[in.Ref], f)
}

func (s *Server) checkMD5List(body []byte, f Fault) reply {
	return s.checkList(body, f, "md5", s.lookupMD5)
}

func (s *Server) checkHashList(body []byte, f Fault) reply {
	return s.checkList(body, f, "hash", func(h string) (*bakong.Transaction, bakong.ItemStatus) {
		if t := s.byHash[h]; t != nil {
			return t, bakong.ItemSuccess
		}
		return nil, bakong.ItemNotFound
	})
}

// itemMessages are the per-item messages of list checks.
var itemMessages = map[bakong.ItemStatus]string{
	bakong.ItemSuccess:       msgTransaction,
	bakong.ItemNotFound:      messages[codeNotFound],
	bakong.ItemStaticQR:      messages[codeStaticQR],
	bakong.ItemFailed:        messages[codeFailed],
	bakong.ItemServiceFailed: msgUnavailable,
}

// checkList answers a bare JSON array of keys with one item per key, in order.
func (s *Server) checkList(body []byte, f Fault, keyName string, lookup func(string) (*bakong.Transaction, bakong.ItemStatus)) reply {
	var keys []string
	if rep, ok := decodeBody(body, &keys); !ok {
		return rep
	}
	if len(keys) == 0 || len(keys) > maxList {
		return fail(codeMissing)
	}
	items := make([]json.RawMessage, len(keys))
	for i, k := range keys {
		t, st := lookup(k)
		if f.serviceFailed(k) {
			t, st = nil, bakong.ItemServiceFailed
		}
		items[i] = item(keyName, k, st, t, f.shape())
	}
	return ok(msgList, mustJSON(items))
}

// item writes one list item: the echoed key, status, message and transaction,
// the latter under "data" unless the shape says otherwise.
func item(keyName, key string, st bakong.ItemStatus, t *bakong.Transaction, sh shape) json.RawMessage {
	var b bytes.Buffer
	b.WriteString("{")
	if !(sh.inline && t != nil && keyName == "hash") {
		b.WriteString(strconv.Quote(keyName) + ":" + string(mustJSON(key)) + ",")
	}
	b.WriteString(`"status":` + string(mustJSON(string(st))) + `,"message":` + string(mustJSON(itemMessages[st])))
	var tx json.RawMessage = json.RawMessage("null")
	if t != nil {
		tx = encodeTx(t, sh)
	}
	switch {
	case sh.inline && t != nil:
		b.WriteString("," + string(tx[1:]))
		return b.Bytes()
	case sh.inline:
	case sh.underTx:
		b.WriteString(`,"transaction":` + string(tx))
	default:
		b.WriteString(`,"data":` + string(tx))
	}
	b.WriteString("}")
	return b.Bytes()
}

// validAccount reports whether id looks like a Bakong account, name@bank, as
// the official SDK checks it.
func validAccount(id string) bool {
	name, bank, found := strings.Cut(id, "@")
	return found && len(id) <= 32 && name != "" && bank != "" && !strings.Contains(bank, "@") &&
		!strings.ContainsAny(id, " \t\r\n")
}

func (s *Server) checkAccount(body []byte, _ Fault) reply {
	var in struct {
		AccountID string `json:"accountId"`
	}
	if rep, ok := decodeBody(body, &in); !ok {
		return rep
	}
	switch {
	case in.AccountID == "":
		return fail(codeMissing)
	case !validAccount(in.AccountID):
		return fail(codeBadAccount)
	case !s.accounts[in.AccountID]:
		return fail(codeNoAccount)
	}
	return ok(msgAccount, nil)
}
