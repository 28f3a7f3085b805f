package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// jwtHeader is the header of today's live tokens.
const jwtHeader = `{"alg":"HS256","typ":"JWT"}`

// claims is the payload of today's live tokens; id is unique per token here,
// so renewing can revoke exactly the tokens it replaces.
type claims struct {
	Data struct {
		ID string `json:"id"`
	} `json:"data"`
	IAT int64 `json:"iat"`
	Exp int64 `json:"exp"`
}

// IssueToken registers email, as the web portal does, and returns a valid
// HS256 token for it, good for the configured lifetime.
func (s *Server) IssueToken(email string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issue(email)
}

// LastCode returns the verification code request_token last "emailed" to email.
func (s *Server) LastCode(email string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, found := s.codes[email]
	return c, found
}

func (s *Server) issue(email string) string {
	s.emails[email] = true
	id := s.fresh()
	var c claims
	c.Data.ID = hex.EncodeToString(id[:8])
	now := s.clock()
	c.IAT = now.Unix()
	c.Exp = now.Add(s.lifetime).Unix()
	s.tokens[c.Data.ID] = email
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(jwtHeader)) + "." + enc.EncodeToString(mustJSON(c))
	return signed + "." + enc.EncodeToString(s.sign(signed))
}

func (s *Server) sign(signed string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// renew issues a new token for a registered email, revoking the older ones when
// the server is set so.
func (s *Server) renew(email string) (string, bool) {
	if !s.emails[email] {
		return "", false
	}
	if s.renewRevokes {
		for id, e := range s.tokens {
			if e == email {
				s.revoked[id] = true
			}
		}
	}
	return s.issue(email), true
}

// valid reports whether tok is signed by this server's secret, unexpired by
// its clock and not revoked. Tokens need not have been issued by this very
// Server: a shared Secret keeps them valid across restarts.
func (s *Server) valid(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	enc := base64.RawURLEncoding
	head, err := enc.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(head, &h) != nil || h.Alg != "HS256" {
		return false
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, s.sign(parts[0]+"."+parts[1])) {
		return false
	}
	body, err := enc.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var c claims
	if json.Unmarshal(body, &c) != nil {
		return false
	}
	return s.clock().Before(time.Unix(c.Exp, 0)) && !s.revoked[c.Data.ID]
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) string {
	scheme, tok, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// newCode returns a 20-character verification code, as verify expects.
func (s *Server) newCode() string { return s.word(20) }

// word returns n random letters and digits, n at most 32.
func (s *Server) word(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := s.fresh()
	w := make([]byte, n)
	for i := range w {
		w[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(w)
}
