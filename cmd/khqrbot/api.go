package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// Exit codes of check beyond the shared ones (see main.go).
const (
	exitFailed   = 4 // Bakong recorded the transaction as failed
	exitDisagree = 5 // check --compare: the endpoints' answers differ
)

// exitCodesHelp documents the exit codes of the commands that call Bakong.
const exitCodesHelp = `Exit codes: 0 found or done, 1 not found (account unknown or invalid, token
expired), 2 usage or configuration error, 3 Bakong or network error
(unauthorized, geo-blocked, rate limited, unavailable, API error).`

// apiFlags are the Open API settings of the commands that call Bakong
// (check, token, account, deeplink): BAKONG_API_URL, BAKONG_PROXY_URL and,
// for check, BAKONG_TOKEN, each from its environment variable, overridden
// by run's flag of the same name (--bakong-api-url), checked by the same
// rules; and how to call and print.
type apiFlags struct {
	*settingFlags
	withToken     bool
	timeout       time.Duration
	json, verbose bool
}

func addAPIFlags(fs *flag.FlagSet, withToken bool) *apiFlags {
	a := &apiFlags{settingFlags: newSettingFlags(fs), withToken: withToken}
	a.add("BAKONG_API_URL", flagName("BAKONG_API_URL"))
	a.add("BAKONG_PROXY_URL", flagName("BAKONG_PROXY_URL"))
	if withToken {
		a.add("BAKONG_TOKEN", flagName("BAKONG_TOKEN"))
	}
	fs.DurationVar(&a.timeout, "timeout", bakong.DefaultTimeout, "give up on a call after this `DURATION`")
	fs.BoolVar(&a.json, "json", false, "print JSON for scripts")
	fs.BoolVar(&a.verbose, "v", false, "print each HTTP call (endpoint, request id, status, codes, latency) on stderr")
	return a
}

// client builds the Open API client from the settings. When one is bad it
// prints every problem, naming each setting, and returns nil: the command
// then exits 2. The token is fixed: a tool command never renews behind the
// operator's back (renewing may revoke the token the running bot uses).
func (a *apiFlags) client(e *env, si *bakong.SourceInfo) *bakong.Client {
	r := a.reader(e.getenv)
	s := apiSettings{url: r.bakongAPIURL(), proxy: r.url("BAKONG_PROXY_URL", "", false), timeout: a.timeout, source: si}
	if a.withToken {
		s.token = r.bakongToken()
	}
	if a.verbose {
		s.callLog = e.stderr
	}
	err := r.err()
	var c *bakong.Client
	if err == nil {
		c, err = s.client()
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "khqrbot %s: %v\n", a.fs.Name(), err)
		return nil
	}
	return c
}

// apiSettings is what an Open API client of the commands is made of.
type apiSettings struct {
	url, proxy, token string
	timeout           time.Duration
	source            *bakong.SourceInfo // sent with deeplinks; nil: none
	callLog           io.Writer          // a line per HTTP call; nil: none
}

// client returns the Open API client of the commands (all but run, which
// adds token renewal and the call log in the database).
func (s apiSettings) client() (*bakong.Client, error) {
	o := bakong.Options{
		BaseURL:    s.url,
		ProxyURL:   s.proxy,
		Timeout:    s.timeout,
		UserAgent:  bakong.UserAgent(buildVersion()),
		SourceInfo: s.source,
		Tokens:     bakong.StaticToken(s.token),
	}
	if w := s.callLog; w != nil {
		o.Observer = func(c bakong.Call) {
			fmt.Fprintf(w, "bakong: %s id=%s HTTP %d responseCode %d errorCode %d in %s",
				c.Endpoint, c.RequestID, c.HTTPStatus, c.ResponseCode, c.ErrorCode, c.Latency.Round(time.Millisecond))
			if c.Err != "" {
				fmt.Fprintf(w, ": %s", c.Err)
			}
			fmt.Fprintln(w)
		}
	}
	return bakong.New(o)
}

// errorExit is the exit code of a failed call: 2 for a request refused
// locally (bad input), else 3.
func errorExit(err error) int {
	if bakong.IsKind(err, bakong.KindInvalid) {
		return exitUsage
	}
	return exitError
}

// hint is advice for an error kind, for people.
func hint(err error) string {
	var e *bakong.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Kind {
	case bakong.KindUnauthorized:
		return "check BAKONG_TOKEN ('khqrbot token status'); renew it with 'khqrbot token renew'"
	case bakong.KindRateLimited:
		if e.RetryAfter > 0 {
			return fmt.Sprintf("try again in %s", e.RetryAfter)
		}
		return "try again later"
	case bakong.KindUnavailable:
		return "Bakong or the network is down: try again later (an outage never means unpaid)"
	case bakong.KindListRefused:
		return "check one by one instead"
	}
	return ""
}

// printError prints a failed call and its hint on w; what, when not
// empty, says what was asked.
func printError(w io.Writer, what string, err error) {
	if what != "" {
		what = " " + what
	}
	fmt.Fprintf(w, "ERROR%s: %v\n", what, err)
	if h := hint(err); h != "" {
		fmt.Fprintf(w, "  %s\n", h)
	}
}

// errorJSON is an error as --json prints it.
type errorJSON struct {
	Kind       string `json:"kind"`
	HTTPStatus int    `json:"httpStatus,omitempty"`
	ErrorCode  int    `json:"errorCode,omitempty"`
	RetryAfter int    `json:"retryAfterSeconds,omitempty"`
	Message    string `json:"message"`
}

func errJSON(err error) *errorJSON {
	if err == nil {
		return nil
	}
	out := &errorJSON{Kind: "error", Message: err.Error()}
	var e *bakong.Error
	if errors.As(err, &e) {
		out.Kind, out.HTTPStatus, out.ErrorCode = string(e.Kind), e.HTTPStatus, e.ErrorCode
		out.RetryAfter = int(e.RetryAfter.Round(time.Second) / time.Second)
	}
	return out
}

func printJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
