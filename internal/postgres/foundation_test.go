package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// superuser opens a connection that bypasses the application role, the way
// an attacker with the database's owner credentials (or a test) would.
func superuser(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestMigrateUpDownUp(t *testing.T) {
	url := pgtest.NewEmptyDatabase(t)
	ctx := context.Background()
	mg, err := postgres.NewMigrator(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mg.Close()
	latest, err := postgres.LatestVersion()
	if err != nil {
		t.Fatal(err)
	}
	su := superuser(t, url)
	tables := func() []string {
		rows, err := su.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	for round := 1; round <= 2; round++ {
		if err := mg.Up(); err != nil {
			t.Fatalf("up (round %d): %v", round, err)
		}
		if v, dirty, _ := mg.Version(); v != latest || dirty {
			t.Fatalf("after up: version %d dirty %v; want %d", v, dirty, latest)
		}
		if got := tables(); len(got) < 10 {
			t.Fatalf("after up only these tables: %v", got)
		}
		if round == 2 {
			break
		}
		if err := mg.Down(); err != nil {
			t.Fatalf("down: %v", err)
		}
		if v, _, _ := mg.Version(); v != 0 {
			t.Fatalf("after down: version %d", v)
		}
		if got := tables(); len(got) != 0 {
			t.Fatalf("down left tables behind: %v", got)
		}
		var fns int
		su.QueryRow(ctx, `SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'`).Scan(&fns)
		if fns != 0 {
			t.Fatalf("down left %d functions behind", fns)
		}
	}
}

func TestAppRoleHasNoDeleteOnClinicalDataNorAudit(t *testing.T) {
	db, _ := pgtest.Open(t)
	ctx := context.Background()
	for _, stmt := range []string{
		`DELETE FROM audit_log`,
		`UPDATE audit_log SET action = 'user.read'`,
		`TRUNCATE audit_log`,
		`DELETE FROM audit_tiles`,
		`DELETE FROM audit_seal`,
		`DELETE FROM audit_keys`,
		`UPDATE audit_keys SET skey = NULL`,
		`DELETE FROM appointments`,
		`DELETE FROM patients`,
		`DELETE FROM infusions`,
		`DELETE FROM relief_reports`,
		`DELETE FROM users`,
	} {
		err := postgres.ExecForTest(ctx, db, stmt)
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s as the application role: %v; want permission denied", stmt, err)
		}
	}
}

func TestAuditIsAppendOnlyEvenForTheOwner(t *testing.T) {
	db, url := pgtest.Open(t)
	ctx := context.Background()
	if err := db.Audit(ctx, clinic.AuditEntry{Action: "test.event", Entity: "test"}); err != nil {
		t.Fatal(err)
	}
	su := superuser(t, url)
	for _, stmt := range []string{`DELETE FROM audit_log`, `UPDATE audit_log SET action = 'x.y'`, `TRUNCATE audit_log`} {
		if _, err := su.Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s as owner: %v; want the append-only refusal", stmt, err)
		}
	}
	// The sealed tree only grows, whoever writes it.
	if err := db.NewSealer("", nil).Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for stmt, want := range map[string]string{
		`UPDATE audit_seal SET size = 0, last_seq = 0`:                                    "only grows",
		`UPDATE audit_tiles SET hashes = decode(repeat('00', 32), 'hex') WHERE level = 0`: "only grow",
	} {
		for who, exec := range map[string]func() error{
			"owner":            func() error { _, err := su.Exec(ctx, stmt); return err },
			"application role": func() error { return postgres.ExecForTest(ctx, db, stmt) },
		} {
			if err := exec(); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s as the %s: %v; want %q", stmt, who, err, want)
			}
		}
	}
}

func newUser(t *testing.T, db *postgres.DB, email string, role clinic.Role) *clinic.User {
	t.Helper()
	hash, err := auth.HashPassword("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.CreateUser(context.Background(), clinic.NewUser{Email: email, Name: "Test " + string(role), Role: string(role), Password: "a long enough password"}, hash)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUsers(t *testing.T) {
	db, _ := pgtest.Open(t)
	ctx := context.Background()
	u := newUser(t, db, "Desk@Example.com", clinic.RoleFrontDesk)
	if u.Email != "desk@example.com" || u.Role != clinic.RoleFrontDesk || u.Version != 1 {
		t.Fatalf("created %+v", u)
	}
	_, err := db.CreateUser(ctx, clinic.NewUser{Email: "DESK@example.com", Name: "Again", Role: "nurse", Password: "a long enough password"}, "x")
	if clinic.ErrorFields(err)["email"] == "" {
		t.Fatalf("duplicate email: %v; want a message on the email field", err)
	}
	missing := int64(999999)
	_, err = db.CreateUser(ctx, clinic.NewUser{Email: "p@example.com", Name: "P", Role: "patient", Password: "a long enough password", PatientID: &missing}, "x")
	if clinic.ErrorFields(err)["patient_id"] == "" {
		t.Fatalf("link to a missing patient: %v", err)
	}
	got, hash, err := db.UserCredentials(ctx, " desk@EXAMPLE.com")
	if err != nil || got.ID != u.ID {
		t.Fatalf("UserCredentials: %v %v", got, err)
	}
	if ok, _ := auth.VerifyPassword(hash, "a long enough password"); !ok {
		t.Fatal("stored hash does not verify")
	}
	if _, _, err := db.UserCredentials(ctx, "nobody@example.com"); clinic.ErrorCode(err) != clinic.ENOTFOUND {
		t.Fatalf("unknown email: %v", err)
	}

	// Disabling ends sessions; a stale version is refused.
	token, th := auth.NewToken()
	_ = token
	if _, err := db.SignIn(ctx, u, postgres.SessionWeb, th, postgres.SessionTimes{Idle: time.Hour, Lifetime: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetUserDisabled(ctx, u.ID, u.Version+5, true); clinic.ErrorCode(err) != clinic.ECONFLICT {
		t.Fatalf("stale version: %v; want conflict", err)
	}
	d, err := db.SetUserDisabled(ctx, u.ID, u.Version, true)
	if err != nil || !d.Disabled() || d.Version != 2 {
		t.Fatalf("disable: %+v %v", d, err)
	}
	if _, err := db.SessionUser(ctx, th, postgres.SessionWeb); clinic.ErrorCode(err) != clinic.EUNAUTHORIZED {
		t.Fatalf("session of a disabled user: %v", err)
	}
	records, err := db.ListAudit(ctx, postgres.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range records {
		actions = append(actions, r.Action)
	}
	if want := "user.disable auth.sign_in user.create"; strings.Join(actions, " ") != want {
		t.Fatalf("audit actions newest first: %v; want %s", actions, want)
	}
	if string(records[0].Before) == "" || !strings.Contains(string(records[0].After), `"disabled_at"`) {
		t.Fatalf("disable audit lacks before/after: %s → %s", records[0].Before, records[0].After)
	}
}

func TestSessionLifetimes(t *testing.T) {
	db, url := pgtest.Open(t)
	ctx := context.Background()
	su := superuser(t, url)
	u := newUser(t, db, "nurse@example.com", clinic.RoleNurse)
	times := postgres.SessionTimes{Idle: 15 * time.Minute, Lifetime: 12 * time.Hour}
	start := func(kind postgres.SessionKind) []byte {
		_, th := auth.NewToken()
		exp, err := db.SignIn(ctx, u, kind, th, times)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(exp); d < 11*time.Hour || d > 13*time.Hour {
			t.Fatalf("expires in %v; want 12h", d)
		}
		return th
	}
	live := func(th []byte, kind postgres.SessionKind) bool {
		_, err := db.SessionUser(ctx, th, kind)
		if err != nil && clinic.ErrorCode(err) != clinic.EUNAUTHORIZED {
			t.Fatal(err)
		}
		return err == nil
	}

	web := start(postgres.SessionWeb)
	if !live(web, postgres.SessionWeb) {
		t.Fatal("fresh session not live")
	}
	if live(web, postgres.SessionAPI) {
		t.Fatal("a cookie token works as a bearer token")
	}
	su.Exec(ctx, `UPDATE sessions SET last_seen_at = now() - interval '14 minutes' WHERE token_hash = $1`, web)
	if !live(web, postgres.SessionWeb) {
		t.Fatal("session idle 14 min ended")
	}
	var seen time.Time
	su.QueryRow(ctx, `SELECT last_seen_at FROM sessions WHERE token_hash = $1`, web).Scan(&seen)
	if time.Since(seen) > time.Minute {
		t.Fatal("use did not renew the idle timer")
	}
	su.Exec(ctx, `UPDATE sessions SET last_seen_at = now() - interval '16 minutes' WHERE token_hash = $1`, web)
	if live(web, postgres.SessionWeb) {
		t.Fatal("session idle 16 min still live")
	}

	old := start(postgres.SessionAPI)
	su.Exec(ctx, `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, old)
	if live(old, postgres.SessionAPI) {
		t.Fatal("session past its absolute lifetime still live")
	}

	out := start(postgres.SessionWeb)
	if err := db.SignOut(ctx, out); err != nil {
		t.Fatal(err)
	}
	if live(out, postgres.SessionWeb) {
		t.Fatal("signed-out session still live")
	}
	a, b := start(postgres.SessionWeb), start(postgres.SessionAPI)
	if err := db.SignOutEverywhere(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if live(a, postgres.SessionWeb) || live(b, postgres.SessionAPI) {
		t.Fatal("sign out everywhere left a session")
	}
	if err := db.PurgeExpired(ctx); err != nil {
		t.Fatal(err)
	}
	var left int
	su.QueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&left)
	if left != 0 {
		t.Fatalf("%d dead sessions left after purge", left)
	}
}

func TestLoginFailures(t *testing.T) {
	db, _ := pgtest.Open(t)
	ctx := context.Background()
	u := newUser(t, db, "doc@example.com", clinic.RolePhysician)
	for _, addr := range []string{"10.0.0.1", "10.0.0.1", "10.0.0.2"} {
		if err := db.RecordFailure(ctx, "DOC@example.com", addr, &u.ID); err != nil {
			t.Fatal(err)
		}
	}
	db.RecordFailure(ctx, "other@example.com", "10.0.0.1", nil)
	db.RecordFailure(ctx, "other@example.com", "10.9.9.9", nil)
	fails, now, err := db.RecentFailures(ctx, "doc@example.com", "10.0.0.1", 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(fails) != 4 || now.IsZero() {
		t.Fatalf("got %d failures; want the 3 for the account and 1 more from its address", len(fails))
	}
	// A successful sign-in from 10.0.0.1 forgets the account's failures
	// from 10.0.0.1 only: the guesses from 10.0.0.2 still count, or an
	// attacker there would get fresh guesses each time the real person
	// signs in.
	_, th := auth.NewToken()
	from1 := clinic.WithActor(ctx, clinic.Actor{Address: "10.0.0.1"})
	if _, err := db.SignIn(from1, u, postgres.SessionWeb, th, postgres.SessionTimes{Idle: time.Minute, Lifetime: time.Hour}); err != nil {
		t.Fatal(err)
	}
	fails, _, _ = db.RecentFailures(ctx, "doc@example.com", "10.0.0.3", 15*time.Minute)
	if len(fails) != 1 || fails[0].Address != "10.0.0.2" {
		t.Fatalf("failures left after a sign-in from 10.0.0.1: %v; want the one from 10.0.0.2", fails)
	}
}

func TestDatesIgnoreSessionTimeZone(t *testing.T) {
	base := pgtest.NewDatabase(t)
	ctx := context.Background()
	for _, zone := range []string{"UTC", "America/Chicago", "America/Phoenix", "Pacific/Kiritimati", "Pacific/Pago_Pago"} {
		t.Run(zone, func(t *testing.T) {
			c, err := pgx.Connect(ctx, base+"&timezone="+zone)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			var d clinic.Date
			if err := c.QueryRow(ctx, `SELECT $1::date`, clinic.D(2026, 3, 8)).Scan(&d); err != nil {
				t.Fatal(err)
			}
			if d != clinic.D(2026, 3, 8) {
				t.Fatalf("date round trip in session zone %s: %s", zone, d)
			}
			instant := time.Date(2026, 3, 8, 15, 0, 0, 0, time.UTC)
			var back time.Time
			if err := c.QueryRow(ctx, `SELECT $1::timestamptz`, instant).Scan(&back); err != nil {
				t.Fatal(err)
			}
			if !back.Equal(instant) {
				t.Fatalf("instant round trip in %s: %v", zone, back)
			}
		})
	}
}

// In a replicated formation a node may stop taking writes under an open pool:
// a standby, or a promoted standby that pg_auto_failover keeps read-only until
// the old primary is fenced. Such a node is not ready, and a write there is
// "unavailable, try again" (503), never an internal error (500).
func TestReadOnlyNodeIsNotReadyAndWritesAreUnavailable(t *testing.T) {
	_, url := pgtest.Open(t)
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := superuser(t, url).Exec(ctx, "ALTER DATABASE "+pgx.Identifier{cfg.Database}.Sanitize()+" SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	node, err := db.Ping(ctx)
	if clinic.ErrorCode(err) != clinic.EUNAVAILABLE {
		t.Errorf("Ping on a read-only node: %v; want unavailable", err)
	}
	if !strings.HasPrefix(node, "127.0.0.1:") {
		t.Errorf("Ping names the node %q; want 127.0.0.1:port", node)
	}
	hash, _ := auth.HashPassword("a long enough password")
	_, err = db.CreateUser(ctx, clinic.NewUser{Email: "ro@example.com", Name: "Read Only", Role: string(clinic.RoleFrontDesk), Password: "a long enough password"}, hash)
	if clinic.ErrorCode(err) != clinic.EUNAVAILABLE {
		t.Errorf("a write on a read-only node: %v (code %s); want unavailable", err, clinic.ErrorCode(err))
	}
}
