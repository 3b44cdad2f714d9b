package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
)

// cli runs the command with the given environment and stdin.
func cli(t *testing.T, env map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	err := run(args, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestMigrateCommands(t *testing.T) {
	env := map[string]string{"DATABASE_URL": pgtest.NewEmptyDatabase(t), "LOG_LEVEL": "warn"}
	latest, err := postgres.LatestVersion()
	if err != nil || latest < 3 {
		t.Fatalf("latest migration %d %v", latest, err)
	}
	none, all := fmt.Sprintf("schema version 0 of %d", latest), fmt.Sprintf("schema version %d of %d", latest, latest)
	for _, step := range []struct{ cmd, want string }{
		{"version", none},
		{"up", all},
		{"down", none},
		{"up", all},
	} {
		out, err := cli(t, env, "", "migrate", step.cmd)
		if err != nil || !strings.Contains(out, step.want) {
			t.Fatalf("migrate %s: %q %v; want %q", step.cmd, out, err, step.want)
		}
	}
	if _, err := cli(t, env, "", "migrate", "sideways"); err == nil {
		t.Fatal("migrate sideways accepted")
	}
}

func TestUserAdd(t *testing.T) {
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)}
	out, err := cli(t, env, "a long enough password\n", "user", "add", "--email", "Ana@Clinic.example", "--name", "Ana Ruiz", "--role", "nurse")
	if err != nil || !strings.Contains(out, "added Ana Ruiz (ana@clinic.example) as Nurse") {
		t.Fatalf("add: %q %v", out, err)
	}
	for name, tc := range map[string]struct {
		args  []string
		stdin string
		want  string
	}{
		"duplicate email": {[]string{"--email", "ana@clinic.example", "--name", "Other", "--role", "admin"}, "a long enough password\n", "email: An account with this email address already exists."},
		"unknown role":    {[]string{"--email", "b@clinic.example", "--name", "B", "--role", "janitor"}, "a long enough password\n", "role: Choose one of"},
		"short password":  {[]string{"--email", "c@clinic.example", "--name", "C", "--role", "admin"}, "short\n", "password: Use at least 12 characters."},
		"staff linked":    {[]string{"--email", "d@clinic.example", "--name", "D", "--role", "admin", "--patient", "1"}, "a long enough password\n", "patient_id:"},
	} {
		_, err := cli(t, env, tc.stdin, append([]string{"user", "add"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", name, err, tc.want)
		}
	}
}

func TestDemoTwice(t *testing.T) {
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)}
	out, err := cli(t, env, "", "demo")
	if err != nil || !strings.Contains(out, "40 patients") || !strings.Contains(out, "desk@"+demo.Domain) {
		t.Fatalf("first demo: %q %v", out, err)
	}
	out, err = cli(t, env, "", "demo")
	if err != nil || !strings.Contains(out, "already loaded") || !strings.Contains(out, demo.Password) {
		t.Fatalf("second demo: %q %v", out, err)
	}
}

func TestConfigErrors(t *testing.T) {
	env := map[string]string{"LOG_LEVEL": "loud", "STAFF_IDLE_TIMEOUT": "soon", "DB_MAX_CONNS": "0", "TLS_CERT_FILE": "x.pem"}
	_, err := loadConfig(func(k string) string { return env[k] })
	for _, want := range []string{"LOG_LEVEL", "STAFF_IDLE_TIMEOUT", "DB_MAX_CONNS", "TLS_CERT_FILE/TLS_KEY_FILE"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config error does not name %s: %v", want, err)
		}
	}
	c, err := loadConfig(func(string) string { return "" })
	if err != nil || c.Addr != "127.0.0.1:8080" || c.Server.StaffIdle != 15*time.Minute || c.Server.SecureCookies {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	if _, err := cli(t, map[string]string{"DATABASE_URL": ""}, "", "serve"); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("serve without a database: %v", err)
	}
	if c.Mail != nil || c.SMS != nil || c.BaseURL != "http://127.0.0.1:8080" {
		t.Fatalf("messages off by default: %+v %+v %q", c.Mail, c.SMS, c.BaseURL)
	}
}

// Messages: each channel is on only when fully configured; a channel on
// needs BASE_URL; a bad value is named, a password never shown.
func TestMessageConfig(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want []string // names in the error; none for a good configuration
	}{
		{map[string]string{"SMTP_URL": "smtp://127.0.0.1:1025?tls=none", "MAIL_FROM": "desk@x.example"}, []string{"BASE_URL"}},
		{map[string]string{"SMTP_URL": "smtp://u:hunter2@mail.example?tls=sometimes", "MAIL_FROM": "desk@x.example", "BASE_URL": "https://x.example"}, []string{"SMTP_URL"}},
		{map[string]string{"SMTP_URL": "smtp://mail.example", "BASE_URL": "https://x.example"}, []string{"MAIL_FROM"}},
		{map[string]string{"SMS_API_BASE": "https://api.twilio.com", "SMS_FROM": "602 555", "BASE_URL": "ftp://x"}, []string{"SMS_ACCOUNT_SID", "SMS_FROM", "BASE_URL"}},
		{map[string]string{"SMTP_URL": "smtp://mail.example", "MAIL_FROM": "desk@x.example", "BASE_URL": "https://x.example/",
			"SMS_API_BASE": "https://api.twilio.com", "SMS_ACCOUNT_SID": "AC1", "SMS_AUTH_TOKEN": "tok", "SMS_FROM": "(602) 555-0100"}, nil},
	} {
		c, err := loadConfig(func(k string) string { return tc.env[k] })
		if len(tc.want) == 0 {
			if err != nil || c.Mail == nil || c.SMS == nil || c.SMS.From != "+16025550100" || c.BaseURL != "https://x.example" ||
				c.Server.SMSAuthToken != "tok" || c.Server.BaseURL != "https://x.example" {
				t.Errorf("%v: %+v %v", tc.env, c, err)
			}
			continue
		}
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: the error does not name %s: %v", tc.env, w, err)
			}
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

// SIGTERM while a request is in flight: the request finishes, the server
// stops accepting and serve returns cleanly.
func TestServeShutsDownGracefully(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	if _, err := cli(t, map[string]string{"DATABASE_URL": dbURL}, "", "demo"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ADDR", "127.0.0.1:0")
	t.Setenv("LOG_LEVEL", "warn")
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"serve"}, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	base := strings.Fields(strings.TrimPrefix(line, "infusiondesk is serving "))[0]

	// Three failed sign-ins make the fourth wait a second on the server:
	// a request reliably in flight.
	signIn := func() (*http.Response, error) {
		return http.PostForm(base+"/login", url.Values{"email": {"desk@" + demo.Domain}, "password": {"wrong password"}})
	}
	for range 3 {
		resp, err := signIn()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	inFlight := make(chan int, 1)
	go func() {
		resp, err := signIn()
		if err != nil {
			inFlight <- -1
			return
		}
		resp.Body.Close()
		inFlight <- resp.StatusCode
	}()
	time.Sleep(300 * time.Millisecond)
	syscall.Kill(os.Getpid(), syscall.SIGTERM)

	if status := <-inFlight; status != http.StatusUnauthorized {
		t.Fatalf("the request in flight got %d; want its answer, 401", status)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("the server still accepts connections after shutdown")
	}
}
