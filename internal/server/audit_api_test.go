package server_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func TestAPIAuditCheckpointAndProof(t *testing.T) {
	f := newFixture(t)
	admin := f.token(clinic.RoleAdmin)
	if status, _, v := f.api("GET", "/api/v1/audit/checkpoint", admin, nil); status != http.StatusOK || v.(map[string]any)["checkpoint"] != "" {
		t.Fatalf("checkpoint before sealing: %d %v", status, v)
	}
	if err := f.db.NewSealer("", nil).Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, _, v := f.api("GET", "/api/v1/audit/checkpoint", admin, nil)
	cp := v.(map[string]any)
	size := int64(cp["tree_size"].(float64))
	verifier, err := note.NewVerifier(cp["verifier_key"].(string))
	if err != nil || size == 0 || cp["key_in_database"] != true {
		t.Fatalf("checkpoint %v (%v)", cp, err)
	}
	n, err := note.Open([]byte(cp["checkpoint"].(string)), note.VerifierList(verifier))
	if err != nil || !strings.HasPrefix(n.Text, "infusiondesk-audit\n") {
		t.Fatalf("the checkpoint does not open with its key: %v", err)
	}
	// A proof anyone can check: the leaf, the hashes, the signed root.
	status, _, v := f.api("GET", "/api/v1/audit/proof?seq=1", admin, nil)
	if status != http.StatusOK {
		t.Fatalf("proof: %d %v", status, v)
	}
	p := v.(map[string]any)
	b64 := func(s any) []byte { b, _ := base64.StdEncoding.DecodeString(s.(string)); return b }
	var root tlog.Hash
	copy(root[:], b64(p["root_hash"]))
	var proof tlog.RecordProof
	for _, h := range p["proof"].([]any) {
		var x tlog.Hash
		copy(x[:], b64(h))
		proof = append(proof, x)
	}
	if err := tlog.CheckRecord(proof, int64(p["tree_size"].(float64)), root, int64(p["leaf_index"].(float64)), tlog.RecordHash(b64(p["leaf"]))); err != nil {
		t.Fatalf("the proof does not check: %v", err)
	}
	for q, want := range map[string]int{"seq=0": 422, "seq=abc": 422, "": 422, "seq=99999999": 404} {
		if status, _, v := f.api("GET", "/api/v1/audit/proof?"+q, admin, nil); status != want {
			t.Errorf("proof?%s: %d %v; want %d", q, status, v, want)
		}
	}
	// A row written after the last seal (the proof's own read) is not in
	// the tree yet.
	conn, err := pgx.Connect(context.Background(), f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var newest int64
	if err := conn.QueryRow(context.Background(), `SELECT max(seq) FROM audit_log`).Scan(&newest); err != nil {
		t.Fatal(err)
	}
	if status, _, v := f.api("GET", "/api/v1/audit/proof?seq="+strconv.FormatInt(newest, 10), admin, nil); status != http.StatusConflict {
		t.Errorf("proof of an unsealed row: %d %v; want 409", status, v)
	}
}

// The audit log's page filters by who, patient, action and days; a bad
// filter is refused on its field with the input kept.
func TestAdminAuditFilters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sched, _ := f.db.Schedule(ctx)
	today := clinic.DateOf(time.Now(), sched.Loc)
	p := maintenancePatient(t, f, "Audrey", "Auditfilter", "audrey@example.com", today.AddDays(-20))
	desk := f.signIn(clinic.RoleFrontDesk)
	f.get(desk, fmt.Sprintf("/desk/patients/%d", p.ID)) // a read of her record
	admin := f.signIn(clinic.RoleAdmin)
	resp, page := f.get(admin, fmt.Sprintf("/admin/audit?patient=%d&action=patient.&from=%s&to=%s", p.ID, today, today))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("filtered: %d", resp.StatusCode)
	}
	rows := strings.Count(page, "<code>")
	if rows == 0 || strings.Count(page, "<code>patient.") != rows {
		t.Fatalf("%d rows, not all about the patient's record:\n%s", rows, extractSection(page, "audit-filter"))
	}
	if !strings.Contains(page, `value="patient."`) {
		t.Fatal("the filter form lost the action typed")
	}
	resp, page = f.get(admin, "/admin/audit?from=yesterday&patient=x")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Give the day as YYYY-MM-DD.") ||
		!strings.Contains(page, "Give a record number") || !strings.Contains(page, `value="yesterday"`) {
		t.Fatalf("a bad filter: %d", resp.StatusCode)
	}
}
