package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/infusiondesk/infusiondesk/internal/mail/mailtest"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// The real binary books a visit while the mail server is down, tries the
// confirmation and fails, and is killed (SIGKILL). The mail server comes
// back; the restarted binary sends the confirmation, once.
func TestSIGKILLLosesNoMessage(t *testing.T) {
	bin := buildBinary(t)
	dbURL := pgtest.NewDatabase(t)
	if _, err := cli(t, map[string]string{"DATABASE_URL": dbURL}, "", "demo"); err != nil {
		t.Fatal(err)
	}
	inbox := mailtest.Start(t, "127.0.0.1:0")
	inbox.Close() // down
	env := []string{"SMTP_URL=" + inbox.URL(), "MAIL_FROM=desk@" + demo.Domain, "BASE_URL=https://clinic.example", "MESSAGE_RETRY_BASE=20s"}
	cmd, base := startServe(t, bin, dbURL, env...)
	call := func(method, path, token string, body any, out any) int {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(out)
		return resp.StatusCode
	}
	var tok struct{ Token string }
	call("POST", "/api/v1/auth/token", "", map[string]string{"email": "desk@" + demo.Domain, "password": demo.Password}, &tok)
	var p struct{ ID int64 }
	if status := call("POST", "/api/v1/patients", tok.Token, map[string]any{"first_name": "Kim", "last_name": "Killtest",
		"date_of_birth": "1970-01-01", "condition": "other", "email": "kim@example.com"}, &p); status != 201 {
		t.Fatalf("patient: %d", status)
	}
	var day, start string
	var chair int64
	for n := 8; start == "" && n < 22; n++ { // the first day with a free slot (the demo closes some)
		day = time.Now().AddDate(0, 0, n).Format("2006-01-02")
		var avail struct {
			Days []struct {
				Chairs []struct {
					ChairID int64 `json:"chair_id"`
					Starts  []string
				}
			}
		}
		call("GET", "/api/v1/availability?from="+day+"&to="+day+"&minutes=30", tok.Token, nil, &avail)
		for _, d := range avail.Days {
			for _, c := range d.Chairs {
				if len(c.Starts) > 0 && start == "" {
					start, chair = c.Starts[0], c.ChairID
				}
			}
		}
	}
	if start == "" {
		t.Fatal("no free slot in two weeks")
	}
	loc, _ := time.LoadLocation(demo.TimeZone)
	at, _ := time.ParseInLocation("2006-01-02 15:04", day+" "+start, loc)
	var a struct{ ID int64 }
	if status := call("POST", "/api/v1/appointments", tok.Token, map[string]any{"patient_id": p.ID, "kind": "consult",
		"start": at.Format(time.RFC3339), "chair_id": chair}, &a); status != 201 {
		t.Fatalf("booking: %d", status)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Until River has recorded the failed try: the job waits 20 s for its
	// next one. (A kill during a try is the rescuer's, tested in postgres.)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var failed bool
		if err := conn.QueryRow(ctx, `SELECT m.error IS NOT NULL AND j.state = 'retryable' FROM messages m JOIN river.river_job j ON j.id = m.job_id
			WHERE m.appointment_id = $1 AND m.kind = 'confirmation' AND m.channel = 'email'`, a.ID).Scan(&failed); err != nil {
			t.Fatal(err)
		}
		if failed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the confirmation was never tried")
		}
	}
	cmd.Process.Kill() // SIGKILL, the confirmation waiting for its next try
	cmd.Wait()

	back := mailtest.Start(t, inbox.Addr)
	startServe(t, bin, dbURL, env...)
	// River's new leader takes over once the dead one's lease ends.
	for deadline := time.Now().Add(90 * time.Second); len(back.Messages()) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			var state string
			var attempt int
			conn.QueryRow(ctx, `SELECT j.state, j.attempt FROM messages m JOIN river.river_job j ON j.id = m.job_id
				WHERE m.appointment_id = $1 AND m.kind = 'confirmation' AND m.channel = 'email'`, a.ID).Scan(&state, &attempt)
			t.Fatalf("not delivered after the restart; its job is %s after %d tries", state, attempt)
		}
	}
	got := back.Messages()
	if got[0].To[0] != "kim@example.com" || !strings.Contains(got[0].Subject, "Your appointment on") {
		t.Fatalf("got %+v", got[0])
	}
	time.Sleep(2 * time.Second) // a second copy would come by now
	if n := len(back.Messages()); n != 1 {
		t.Fatalf("%d copies of the confirmation", n)
	}
	var status string
	conn.QueryRow(ctx, `SELECT status FROM messages WHERE appointment_id = $1 AND kind = 'confirmation' AND channel = 'email'`, a.ID).Scan(&status)
	if status != "sent" {
		t.Fatalf("status %q", status)
	}
}
