// Package sms sends text messages through a Twilio-compatible HTTP API:
// POST {base}/2010-04-01/Accounts/{sid}/Messages.json with the form fields
// To, From and Body, basic auth sid:token. It also checks the signature of
// the gateway's inbound webhook (X-Twilio-Signature). No real gateway is
// reachable where this is tested: the tests run a local server speaking
// exactly this API.
package sms

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Config is the gateway, read once from SMS_API_BASE, SMS_ACCOUNT_SID,
// SMS_AUTH_TOKEN and SMS_FROM.
type Config struct {
	APIBase    string // e.g. https://api.twilio.com
	AccountSID string
	AuthToken  string
	From       string // E.164
}

// Client sends text messages.
type Client struct {
	cfg  Config
	http *http.Client
}

// NewClient returns a client with a bounded request time.
func NewClient(cfg Config) *Client {
	cfg.APIBase = strings.TrimRight(cfg.APIBase, "/")
	return &Client{cfg: cfg, http: &http.Client{Timeout: 15 * time.Second}}
}

// Error is a refusal by the gateway. Temporary is true for a 5xx or 429:
// try again later; otherwise the message will never go out as it is.
type Error struct {
	Status    int
	Code      int
	Message   string
	Temporary bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("sms gateway: %d (code %d): %s", e.Status, e.Code, e.Message)
}

// Send sends body to the E.164 number to and returns the gateway's id for
// the message (Twilio's "sid").
func (c *Client) Send(ctx context.Context, to, body string) (string, error) {
	endpoint := fmt.Sprintf("%s/2010-04-01/Accounts/%s/Messages.json", c.cfg.APIBase, url.PathEscape(c.cfg.AccountSID))
	form := url.Values{"To": {to}, "From": {c.cfg.From}, "Body": {body}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.cfg.AccountSID, c.cfg.AuthToken)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("sms gateway: %w", err) // unreachable: try again later
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var answer struct {
		SID     string `json:"sid"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	json.Unmarshal(raw, &answer)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", &Error{Status: resp.StatusCode, Code: answer.Code, Message: answer.Message,
			Temporary: resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests}
	}
	if answer.SID == "" {
		return "", &Error{Status: resp.StatusCode, Message: "no message id in the answer", Temporary: true}
	}
	return answer.SID, nil
}

// Signature is the X-Twilio-Signature of a webhook request to fullURL
// with the form params: base64(HMAC-SHA1(token, URL + each key and value,
// keys sorted)).
func Signature(token, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		for _, v := range params[k] {
			b.WriteString(k + v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature is the gateway's, signed with token,
// for this request.
func Verify(token, signature, fullURL string, params url.Values) bool {
	want := Signature(token, fullURL, params)
	return hmac.Equal([]byte(signature), []byte(want))
}

// Deliver sends a finished text message and returns the gateway's id.
func (c *Client) Deliver(ctx context.Context, o clinic.Outgoing) (string, error) {
	return c.Send(ctx, o.To, o.Text)
}

// Permanent is true when the gateway will never take the message as it is.
func (e *Error) Permanent() bool { return !e.Temporary }

// Reply is what a patient's text back asks for.
type Reply string

const (
	ReplyStop    Reply = "stop"    // no more texts
	ReplyStart   Reply = "start"   // texts again
	ReplyConfirm Reply = "confirm" // confirms the next visit
	ReplyOther   Reply = ""
)

// ParseReply reads a patient's text back: STOP (and the carriers' other
// opt-out words), START, C or CONFIRM; anything else is ReplyOther.
func ParseReply(body string) Reply {
	switch strings.ToUpper(strings.Trim(strings.TrimSpace(body), ".!")) {
	case "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT":
		return ReplyStop
	case "START", "YES", "UNSTOP":
		return ReplyStart
	case "C", "CONFIRM":
		return ReplyConfirm
	}
	return ReplyOther
}
