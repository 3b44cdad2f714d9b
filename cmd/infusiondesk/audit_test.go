package main

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"
)

// The audit commands as an operator runs them: print a head to keep,
// verify, verify against the kept head after a consistent rewrite, make a
// key.
func TestAuditCommands(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn"}
	if _, err := cli(t, env, "", "demo"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, env, "", "audit", "checkpoint"); err == nil || !strings.Contains(err.Error(), "nothing is sealed yet") {
		t.Fatalf("checkpoint before any seal: %v", err)
	}
	db, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seal := func() {
		t.Helper()
		if err := db.NewSealer("", nil).Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	seal()
	head, err := cli(t, env, "", "audit", "checkpoint")
	if err != nil || !strings.HasPrefix(head, "infusiondesk-audit\n") || !strings.Contains(head, "\n\n— infusiondesk-audit ") {
		t.Fatalf("checkpoint: %q %v", head, err)
	}
	saved := filepath.Join(t.TempDir(), "head.txt")
	if err := os.WriteFile(saved, []byte(head), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, env, "", "audit", "verify")
	if err != nil || !strings.Contains(out, "audit log verified") || !strings.Contains(out, "no trusted key given") {
		t.Fatalf("verify: %q %v", out, err)
	}
	if out, err := cli(t, env, "", "audit", "verify", "--head", saved); err != nil || !strings.Contains(out, "only grew since") {
		t.Fatalf("verify --head of an untouched log: %q %v", out, err)
	}
	_, other, _ := note.GenerateKey(rand.Reader, "infusiondesk-audit")
	if _, err := cli(t, env, "", "audit", "verify", "--key", other); err == nil || !strings.Contains(err.Error(), "not signed by a trusted key") {
		t.Fatalf("verify with a key that did not sign: %v", err)
	}

	// A superuser rewrites a row and rebuilds tree and head with the key
	// the database keeps: a plain verify passes, the kept head does not.
	su, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close(ctx)
	for _, stmt := range []string{
		`ALTER TABLE audit_log DISABLE TRIGGER audit_no_change`,
		`UPDATE audit_log SET address = '10.6.6.6' WHERE seq = 2`,
		`DELETE FROM audit_tiles`,
		`ALTER TABLE audit_seal DISABLE TRIGGER audit_seal_grows`,
		`UPDATE audit_seal SET size = 0, last_seq = 0, root = decode(repeat('00', 32), 'hex'), head = ''`,
	} {
		if _, err := su.Exec(ctx, stmt); err != nil {
			t.Fatal(stmt, err)
		}
	}
	seal()
	if _, err := cli(t, env, "", "audit", "verify"); err != nil {
		t.Fatalf("the consistent rewrite should pass a plain verify: %v", err)
	}
	if _, err := cli(t, env, "", "audit", "verify", "--head", saved); err == nil || !strings.Contains(err.Error(), "rewritten") {
		t.Fatalf("verify --head after the rewrite: %v; want it refused", err)
	}

	out, err = cli(t, nil, "", "audit", "keygen", "--name", "clinic-audit")
	if err != nil || !strings.HasPrefix(out, "AUDIT_SIGNING_KEY=PRIVATE+KEY+clinic-audit+") {
		t.Fatalf("keygen: %q %v", out, err)
	}
	if _, err := cli(t, map[string]string{"AUDIT_SIGNING_KEY": "not a key"}, "", "audit", "verify"); err == nil || !strings.Contains(err.Error(), "AUDIT_SIGNING_KEY") {
		t.Fatalf("a malformed AUDIT_SIGNING_KEY: %v", err)
	}
}
