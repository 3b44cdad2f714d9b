package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// Text that tries to be HTML or SQL is stored as it is and shown escaped;
// bytes that are not text are refused with a 400, never a 500.
func TestHostileInput(t *testing.T) {
	f := newFixture(t)
	desk := f.token(clinic.RoleFrontDesk)
	script := `<script>alert("x")</script>`
	sql := `Robert'); DROP TABLE patients; --`
	status, _, v := f.api("POST", "/api/v1/patients", desk, map[string]any{"first_name": script, "last_name": sql,
		"date_of_birth": "1970-01-01", "condition": "other", "notes": `<img src=x onerror=alert(1)> "quotes" & ampersands`})
	expect(t, "hostile patient", status, 201, v)
	id := int64(obj(v)["id"].(float64))
	if obj(v)["first_name"] != script || obj(v)["last_name"] != sql {
		t.Fatalf("stored as %v", v)
	}
	page := f.signIn(clinic.RoleFrontDesk)
	for _, path := range []string{fmt.Sprintf("/desk/patients/%d", id), fmt.Sprintf("/desk/patients/%d/edit", id)} {
		resp, body := f.get(page, path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Fatalf("%s shows markup unescaped", path)
		}
		if !strings.Contains(body, "&lt;script&gt;") {
			t.Fatalf("%s does not show the name (escaped)", path)
		}
	}
	// The table is still there, and the name is found by its own words.
	status, _, v = f.api("GET", "/api/v1/patients?q="+url.QueryEscape("robert');"), desk, nil)
	expect(t, "search", status, 200, v)
	if len(v.([]any)) != 1 {
		t.Fatalf("search for the SQL-looking name: %v", v)
	}
	if _, err := f.db.Patient(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	// Bytes that are not text: a form, a query string, a JSON NUL.
	if status, _ := f.post(page, "/desk/patients/new", url.Values{"first_name": {"Bad\xff\xfe"}, "last_name": {"X"}}); status != http.StatusBadRequest {
		t.Fatalf("invalid UTF-8 in a form: %d", status)
	}
	if resp, _ := f.get(page, "/desk/calendar?date=%ff%fe"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("invalid UTF-8 in a query string: %d", resp.StatusCode)
	}
	status, _, v = f.api("GET", "/api/v1/patients?q=%00", desk, nil)
	expect(t, "NUL in a query", status, 400, v)
	status, _, v = f.api("POST", "/api/v1/patients", desk, `{"first_name":"A\u0000","last_name":"B","date_of_birth":"1970-01-01","condition":"other"}`)
	expect(t, "NUL in JSON", status, 400, v)
	// Invalid UTF-8 inside JSON is refused like in a form, never stored as U+FFFD.
	status, _, v = f.api("POST", "/api/v1/patients", desk, "{\"first_name\":\"Ok\xff\",\"last_name\":\"B\",\"date_of_birth\":\"1970-01-01\",\"condition\":\"other\"}")
	expect(t, "invalid UTF-8 in JSON", status, 400, v)
	// Oversized bodies: form and JSON.
	big := strings.Repeat("a", 2<<20)
	if status, _ := f.post(page, "/desk/patients/new", url.Values{"notes": {big}}); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 2 MiB form: %d", status)
	}
	status, _, v = f.api("POST", "/api/v1/patients", desk, `{"notes":"`+big+`"}`)
	expect(t, "a 2 MiB JSON body", status, 413, v)
}
