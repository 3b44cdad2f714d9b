// Command infusiondesk runs the clinic's scheduling application.
//
//	infusiondesk serve                      serve HTTP (DATABASE_URL, ADDR, …)
//	infusiondesk migrate up|down|version    apply or reverse the schema
//	infusiondesk user add --email E --name N --role R [--patient ID]
//	                                        add a user; password on stdin
//	infusiondesk demo                       load the demo clinic (idempotent)
//	infusiondesk audit verify [--head FILE] [--key VKEY]...
//	                                        verify the audit log (and that it only grew since a saved head)
//	infusiondesk audit checkpoint           print the latest signed head, to keep outside the database
//	infusiondesk audit keygen [--name N]    make a signing key for AUDIT_SIGNING_KEY
//
// Configuration comes from the environment; see config.go and the README.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // zone data ships inside the binary

	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/infusiondesk/infusiondesk/internal/mail"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/server"
	"github.com/infusiondesk/infusiondesk/internal/sms"
	"golang.org/x/term"
)

const usage = `usage:
  infusiondesk serve
  infusiondesk migrate up|down|version
  infusiondesk user add --email E --name N --role R [--patient ID]   (password on stdin)
  infusiondesk demo
  infusiondesk audit verify [--head FILE] [--key VKEY]...
  infusiondesk audit checkpoint
  infusiondesk audit keygen [--name NAME]

Configuration is read from the environment: DATABASE_URL (required), ADDR,
LOG_LEVEL, LOG_FORMAT, TLS_CERT_FILE, TLS_KEY_FILE, SECURE_COOKIES,
TRUST_PROXY_HEADERS, STAFF_IDLE_TIMEOUT, PATIENT_IDLE_TIMEOUT,
SESSION_LIFETIME, DB_MAX_CONNS, SHUTDOWN_TIMEOUT, PPROF_ADDR; for messages BASE_URL,
SMTP_URL, MAIL_FROM, SMS_API_BASE, SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, SMS_FROM,
MESSAGE_RETRY_BASE; for the audit log AUDIT_SIGNING_KEY, AUDIT_VERIFIER_KEYS.
See README.md.`

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "infusiondesk:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command given")
	}
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	switch args[0] {
	case "serve":
		return serve(cfg, log, stdout)
	case "migrate":
		return migrateCmd(cfg, log, args[1:], stdout)
	case "user":
		return userCmd(cfg, args[1:], stdin, stdout)
	case "demo":
		return demoCmd(cfg, stdout)
	case "audit":
		return auditCmd(cfg, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(cfg config, log *slog.Logger, stdout io.Writer) error {
	if err := cfg.needDatabase(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{MaxConns: cfg.DBMaxConns})
	if err != nil {
		return err
	}
	defer db.Close()
	srv := server.New(db, cfg.Server, log)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	httpSrv := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if cfg.PprofAddr != "" {
		go func() {
			log.Info("serving the Go profiler", "addr", cfg.PprofAddr)
			if err := http.ListenAndServe(cfg.PprofAddr, pprofHandler()); err != nil {
				log.Warn("the Go profiler", "err", err)
			}
		}()
	}
	background, cancelBackground := context.WithCancel(context.Background())
	defer cancelBackground()
	go srv.WatchDatabase(background)
	go srv.Purge(background, 10*time.Minute)
	go func() {
		// Courses from before plans were stored get one; every change to a
		// plan's inputs keeps the others current.
		if n, err := db.RefreshPlans(background, time.Now()); err != nil {
			log.Warn("refreshing maintenance plans", "err", err)
		} else {
			log.Info("maintenance plans stored for courses without one", "courses", n)
		}
	}()

	// The audit log's sealer: every 200 ms, and once more at shutdown for
	// the rows of the last requests.
	sealCtx, stopSealing := context.WithCancel(background)
	defer stopSealing()
	sealDone := make(chan struct{})
	go func() {
		defer close(sealDone)
		db.NewSealer(cfg.AuditSigningKey, log).Run(sealCtx, 200*time.Millisecond, 5*time.Second)
	}()

	deliveryCtx, stopDelivery := context.WithCancel(background)
	defer stopDelivery()
	deliveryDone := make(chan struct{})
	go func() {
		defer close(deliveryDone)
		if err := db.RunDelivery(deliveryCtx, delivery(cfg, log), cfg.ShutdownTimeout); err != nil {
			log.Warn("stopping message delivery", "err", err)
		}
	}()

	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
	}
	url := fmt.Sprintf("%s://%s", scheme, ln.Addr())
	log.Info("serving", "url", url)
	fmt.Fprintf(stdout, "infusiondesk is serving %s (Ctrl-C to stop)\n", url)

	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCertFile != "" {
			errc <- httpSrv.ServeTLS(ln, cfg.TLSCertFile, cfg.TLSKeyFile)
		} else {
			errc <- httpSrv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Stop accepting; let requests in flight finish.
	log.Info("shutting down", "grace", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	shutdownErr := httpSrv.Shutdown(sctx)
	// Messages being sent finish (within the same grace); the rest wait
	// in the database for the next start.
	stopDelivery()
	<-deliveryDone
	stopSealing()
	<-sealDone
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	log.Info("stopped")
	return nil
}

// pprofHandler serves net/http/pprof's pages (PPROF_ADDR).
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// delivery is how messages go out: each channel configured, or off.
func delivery(cfg config, log *slog.Logger) postgres.Delivery {
	d := postgres.Delivery{BaseURL: cfg.BaseURL, Log: log, EmailOff: mailOff, SMSOff: smsOff, RetryBase: cfg.MessageRetry,
		BetweenVisits: time.Hour}
	if cfg.Mail != nil {
		d.Email = mail.NewSender(*cfg.Mail)
		log.Info("email is on", "smtp", fmt.Sprintf("%s:%d", cfg.Mail.Host, cfg.Mail.Port), "from", cfg.Mail.From)
	} else {
		log.Warn("email is off: messages by email are logged as not sent", "why", mailOff)
	}
	if cfg.SMS != nil {
		d.SMS = sms.NewClient(*cfg.SMS)
		log.Info("text messages are on", "gateway", cfg.SMS.APIBase)
	} else {
		log.Warn("text messages are off: they are logged as not sent", "why", smsOff)
	}
	return d
}

func migrateCmd(cfg config, log *slog.Logger, args []string, stdout io.Writer) error {
	if err := cfg.needDatabase(); err != nil {
		return err
	}
	if len(args) != 1 {
		return errors.New("usage: infusiondesk migrate up|down|version")
	}
	mg, err := postgres.NewMigrator(cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer mg.Close()
	switch args[0] {
	case "up":
		err = mg.Up()
	case "down":
		err = mg.Down()
	case "version":
	default:
		return fmt.Errorf("unknown migrate command %q (up, down, version)", args[0])
	}
	if err != nil {
		return err
	}
	v, dirty, err := mg.Version()
	if err != nil {
		return err
	}
	latest, _ := postgres.LatestVersion()
	fmt.Fprintf(stdout, "schema version %d of %d", v, latest)
	if dirty {
		fmt.Fprint(stdout, " (dirty: the last migration failed half-way)")
	}
	fmt.Fprintln(stdout)
	return nil
}

func userCmd(cfg config, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("usage: infusiondesk user add --email E --name N --role R [--patient ID]")
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	email := fs.String("email", "", "email address (the sign-in name)")
	name := fs.String("name", "", "full name")
	role := fs.String("role", "", "admin, front_desk, nurse, physician or patient")
	patient := fs.Int64("patient", 0, "for a patient account: the patient record's id")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := cfg.needDatabase(); err != nil {
		return err
	}
	n := clinic.NewUser{Email: *email, Name: *name, Role: *role}
	if *patient != 0 {
		n.PatientID = patient
	}
	// Check everything but the password first, so a typo in a flag is
	// reported before anyone types a password.
	n.Password = strings.Repeat("x", clinic.PasswordMinLength)
	if err := n.Validate(); err != nil {
		return fieldErrors(err)
	}
	pw, err := readPassword(stdin, stdout)
	if err != nil {
		return err
	}
	n.Password = pw
	if err := n.Validate(); err != nil {
		return fieldErrors(err)
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	ctx, db, err := openAsSystem(cfg, "cli")
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.CreateUser(ctx, n, hash)
	if err != nil {
		return fieldErrors(err)
	}
	fmt.Fprintf(stdout, "added %s (%s) as %s, id %d\n", u.Name, u.Email, u.Role.Label(), u.ID)
	return nil
}

// openAsSystem opens the store for a command-line tool. Its writes are
// audited as the system's, under the given request id.
func openAsSystem(cfg config, requestID string) (context.Context, *postgres.DB, error) {
	ctx := clinic.WithActor(context.Background(), clinic.Actor{RequestID: requestID})
	db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{MaxConns: 2})
	return ctx, db, err
}

// readPassword reads the password: prompted twice without echo on a
// terminal, else the first line of stdin.
func readPassword(stdin io.Reader, stdout io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stdout, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stdout, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// fieldErrors turns a validation error into one line per field.
func fieldErrors(err error) error {
	fields := clinic.ErrorFields(err)
	if len(fields) == 0 {
		return err
	}
	var names []string
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	var lines []string
	for _, f := range names {
		lines = append(lines, fmt.Sprintf("%s: %s", f, fields[f]))
	}
	return errors.New(strings.Join(lines, "\n  "))
}

func demoCmd(cfg config, stdout io.Writer) error {
	if err := cfg.needDatabase(); err != nil {
		return err
	}
	c, err := demo.Generate(time.Now())
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(demo.Password)
	if err != nil {
		return err
	}
	ctx, db, err := openAsSystem(cfg, "demo")
	if err != nil {
		return err
	}
	defer db.Close()
	sum, err := demo.Load(ctx, db, c, hash)
	if err != nil {
		return err
	}
	if sum.AlreadyLoaded {
		fmt.Fprintln(stdout, "The demo clinic is already loaded.")
	} else {
		fmt.Fprintf(stdout, "Loaded the demo clinic %q: %d patients, %d appointments, %d infusions, %d relief reports.\n",
			c.Settings.Name, sum.Patients, sum.Appointments, sum.Infusions, sum.Reliefs)
	}
	fmt.Fprintf(stdout, "\nDemo sign-ins (password for all: %s):\n", demo.Password)
	for _, a := range c.Accounts {
		fmt.Fprintf(stdout, "  %-12s %s\n", a.Role.Label(), a.Email)
	}
	fmt.Fprintln(stdout)
	return nil
}
