package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"golang.org/x/mod/sumdb/note"
)

const auditUsage = `usage:
  infusiondesk audit verify [--head FILE] [--key VKEY]...
  infusiondesk audit checkpoint
  infusiondesk audit keygen [--name NAME]`

// auditCmd verifies the audit log, prints its latest signed head, or makes
// a signing key.
func auditCmd(cfg config, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(auditUsage)
	}
	switch args[0] {
	case "verify":
		return auditVerify(cfg, args[1:], stdout)
	case "checkpoint":
		return auditCheckpoint(cfg, stdout)
	case "keygen":
		fs := flag.NewFlagSet("audit keygen", flag.ContinueOnError)
		name := fs.String("name", "infusiondesk-audit", "the key's name (the heads' origin line)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		skey, vkey, err := note.GenerateKey(rand.Reader, *name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "AUDIT_SIGNING_KEY=%s\n# the public half, for anyone who verifies (AUDIT_VERIFIER_KEYS, audit verify --key):\n%s\n", skey, vkey)
		return nil
	}
	return fmt.Errorf("unknown audit command %q\n%s", args[0], auditUsage)
}

// keys collects repeated --key flags.
type keys []string

func (k *keys) String() string     { return strings.Join(*k, " ") }
func (k *keys) Set(v string) error { *k = append(*k, v); return nil }

func auditVerify(cfg config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	head := fs.String("head", "", "a signed head saved earlier (from `audit checkpoint`): check that the log only grew since")
	var trusted keys
	fs.Var(&trusted, "key", "a trusted verifier key (repeatable); default: AUDIT_SIGNING_KEY's and AUDIT_VERIFIER_KEYS")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.needDatabase(); err != nil {
		return err
	}
	o := postgres.AuditVerify{Keys: append(trusted, cfg.Server.AuditKeys...)}
	if *head != "" {
		b, err := os.ReadFile(*head)
		if err != nil {
			return err
		}
		o.Saved = b
	}
	ctx, db, err := openAsSystem(cfg, "cli")
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	c, err := db.VerifyAuditLog(ctx, o)
	if err != nil {
		return err
	}
	took := time.Since(start).Round(time.Millisecond)
	if c.KeysFromDatabase {
		fmt.Fprintln(stdout, "note: no trusted key given (--key, AUDIT_SIGNING_KEY, AUDIT_VERIFIER_KEYS): the head was checked with the key the database keeps; only --head proves the log was not rewritten.")
	}
	if !c.OK {
		at := ""
		if c.BrokenAt > 0 {
			at = fmt.Sprintf(" at seq %d", c.BrokenAt)
		}
		return fmt.Errorf("the audit log does not verify%s: %s (checked %d sealed rows in %s)", at, c.Problem, c.Rows, took)
	}
	fmt.Fprintf(stdout, "audit log verified: %d sealed rows (to seq %d) match the head signed %s; %d rows wait to be sealed; %s\n",
		c.Rows, c.Head.LastSeq, c.Head.Time.Format(time.RFC3339), c.Pending, took)
	if c.Saved != nil {
		fmt.Fprintf(stdout, "and it only grew since the head saved at %s (%d rows)\n", c.Saved.Time.Format(time.RFC3339), c.Saved.Size)
	}
	return nil
}

func auditCheckpoint(cfg config, stdout io.Writer) error {
	if err := cfg.needDatabase(); err != nil {
		return err
	}
	_, db, err := openAsSystem(cfg, "cli")
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := db.AuditStatus(context.Background())
	if err != nil {
		return err
	}
	if st.Signed == "" {
		return errors.New("nothing is sealed yet: start the server (it seals within a second)")
	}
	_, err = io.WriteString(stdout, st.Signed)
	return err
}
