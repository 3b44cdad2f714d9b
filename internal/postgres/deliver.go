package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"

	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Sender sends messages of one channel. It returns the gateway's id of a
// text message ("" for email). An error with a Permanent() method that
// returns true is never tried again.
type Sender interface {
	Deliver(ctx context.Context, m clinic.Outgoing) (string, error)
}

// Delivery is how StartDelivery sends.
type Delivery struct {
	Email, SMS       Sender // nil: the channel is off
	EmailOff, SMSOff string // why a channel is off, for the message log
	BaseURL          string // where visit links point, e.g. https://clinic.example
	Workers          int    // messages sent at once; 0: 4
	// RetryBase is the wait after a failed try, doubled after each one up
	// to RetryMax; 0: 30 s and 1 h.
	RetryBase, RetryMax time.Duration
	// RescueAfter is how long a try may look running before it is taken
	// for one whose process died, and tried again; 0: 5 min.
	RescueAfter  time.Duration
	PollInterval time.Duration // 0: River's (1 s)
	// BetweenVisits is how often the work between visits runs (the
	// signals recomputed, the weekly PEG reminders written); 0: never.
	BetweenVisits time.Duration
	Log           *slog.Logger
	Now           func() time.Time // nil: time.Now
}

func (d Delivery) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Delivering is a running delivery; Stop ends it.
type Delivering struct{ client *river.Client[pgx.Tx] }

// Stop lets the messages being sent finish (until ctx ends) and stops.
func (d *Delivering) Stop(ctx context.Context) error { return d.client.Stop(ctx) }

// StartDelivery starts River's workers: every scheduled message is sent
// when it is due, by the process that holds it, once.
func (db *DB) StartDelivery(ctx context.Context, d Delivery) (*Delivering, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if _, err := url.Parse(d.BaseURL); err != nil || d.BaseURL == "" {
		return nil, fmt.Errorf("delivery: BASE_URL %q is not an address", d.BaseURL)
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &messageWorker{db: db, d: d}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &betweenVisitsWorker{db: db, d: d}); err != nil {
		return nil, err
	}
	cfg := &river.Config{
		Schema:               RiverSchema,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cmp.Or(d.Workers, 4)}},
		Workers:              workers,
		Logger:               d.Log,
		JobTimeout:           time.Minute,
		RescueStuckJobsAfter: cmp.Or(d.RescueAfter, 5*time.Minute),
		RetryPolicy:          backoff{base: cmp.Or(d.RetryBase, 30*time.Second), max: cmp.Or(d.RetryMax, time.Hour)},
		FetchPollInterval:    d.PollInterval,
	}
	if d.BetweenVisits > 0 {
		cfg.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(d.BetweenVisits),
			func() (river.JobArgs, *river.InsertOpts) { return betweenVisitsArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})}
	}
	if d.PollInterval > 0 {
		cfg.FetchCooldown = min(d.PollInterval, 100*time.Millisecond)
	}
	client, err := river.NewClient(riverpgxv5.New(db.pool), cfg)
	if err != nil {
		return nil, err
	}
	if err := client.Start(ctx); err != nil {
		return nil, err
	}
	return &Delivering{client: client}, nil
}

// RunDelivery sends messages until ctx ends. It starts River's workers as
// soon as the database answers (a database down at start is retried, with
// backoff, and logged) and, when ctx ends, lets the sends in flight finish
// within grace; the rest wait in the database for the next start.
func (db *DB) RunDelivery(ctx context.Context, d Delivery, grace time.Duration) error {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	wait := time.Second
	var running *Delivering
	for running == nil {
		var err error
		// Not ctx itself: River stops hard when its start context ends.
		if running, err = db.StartDelivery(context.WithoutCancel(ctx), d); err != nil {
			d.Log.Warn("message delivery not started, retrying", "err", err, "retry_in", wait.String())
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			wait = min(wait*2, 30*time.Second)
		}
	}
	d.Log.Info("message delivery started")
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return running.Stop(sctx)
}

// backoff waits base after the first failure, doubling up to max.
type backoff struct{ base, max time.Duration }

func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	wait := b.base
	for i := 1; i < len(job.Errors) && wait < b.max; i++ {
		wait *= 2
	}
	return time.Now().Add(min(wait, b.max))
}

type messageWorker struct {
	river.WorkerDefaults[deliverArgs]
	db *DB
	d  Delivery
}

// Work sends one message: checked and written in one transaction, sent,
// then marked sent in the job's own completing transaction. A message that
// no longer holds is dropped; a failed send is tried again later (the same
// Message-ID each time), failed for the desk after the last try.
func (w *messageWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	id := job.Args.Message
	out, wait, err := w.db.prepareMessage(ctx, id, w.d, w.d.now())
	switch {
	case err != nil:
		return err
	case wait > 0:
		return river.JobSnooze(wait)
	case out == nil:
		return nil
	}
	sender := w.d.Email
	if out.Channel == clinic.ChannelSMS {
		sender = w.d.SMS
	}
	provider, err := sender.Deliver(ctx, *out)
	if err != nil {
		var p interface{ Permanent() bool }
		permanent := errors.As(err, &p) && p.Permanent()
		final := permanent || job.Attempt >= job.MaxAttempts
		if ferr := w.db.messageFailed(context.WithoutCancel(ctx), id, err, final); ferr != nil {
			w.d.Log.Warn("recording a failed message", "message", id, "err", ferr)
		}
		w.d.Log.Warn("message not sent", "message", id, "channel", string(out.Channel), "attempt", job.Attempt, "final", final, "err", err)
		if permanent {
			return river.JobCancel(err)
		}
		return err
	}
	return w.db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			UPDATE messages SET status = 'sent', sent_at = $2, provider_id = nullif($3, ''), error = NULL, link = NULL
			WHERE id = $1`, id, w.d.now(), provider); err != nil {
			return err
		}
		_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
}

// messageFailed records a failed try; final fails the message.
func (db *DB) messageFailed(ctx context.Context, id int64, sendErr error, final bool) error {
	msg := sendErr.Error()
	if r := []rune(msg); len(r) > 1000 {
		msg = string(r[:999]) + "…"
	}
	_, err := db.pool.Exec(ctx, `
		UPDATE messages SET error = $2, status = CASE WHEN $3 THEN 'failed' ELSE status END,
			link = CASE WHEN $3 THEN NULL ELSE link END
		WHERE id = $1 AND status = 'scheduled'`, id, msg, final)
	return mapError(err)
}

// prepareMessage checks a message at send time and writes it. It returns
// nil for a message not to send (sent already, or dropped now, saying why)
// and a wait for a text due in the quiet hours.
func (db *DB) prepareMessage(ctx context.Context, id int64, d Delivery, now time.Time) (*clinic.Outgoing, time.Duration, error) {
	var out *clinic.Outgoing
	var wait time.Duration
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out, wait = nil, 0
		var m pendingMessage
		err := tx.QueryRow(ctx, `
			SELECT m.status, m.kind, m.channel, m.visits, m.was, m.message_key, coalesce(m.link, ''), m.patient_id, m.offer_id,
			       p.first_name, p.email, p.phone, p.contact_by, p.sms_opted_out_at IS NOT NULL, p.language
			FROM messages m JOIN patients p ON p.id = m.patient_id
			WHERE m.id = $1 FOR UPDATE OF m`, id).Scan(&m.status, &m.kind, &m.channel, &m.visits, &m.was, &m.key, &m.link,
			&m.patientID, &m.offerID, &m.first, &m.to.Email, &m.to.Phone, &m.to.ContactBy, &m.to.SMSOptedOut, &m.lang)
		if isNoRows(err) || (err == nil && m.status != "scheduled") {
			return nil // sent already (a try that died before its job completed), dropped or failed
		}
		if err != nil {
			return err
		}
		drop := func(why string) error {
			_, err := tx.Exec(ctx, `UPDATE messages SET status = 'dropped', error = $2, link = NULL WHERE id = $1`, id, why)
			return err
		}
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		check := clinic.CheckSend(m.channel, m.to, d.off(m.channel), now, sched.Loc)
		switch {
		case check.Drop != "":
			return drop(check.Drop)
		case check.Wait > 0:
			wait = check.Wait
			return nil
		}
		o := clinic.Outgoing{Channel: m.channel, To: check.To, MessageID: m.key + "@" + hostOf(d.BaseURL)}
		why, err := db.writeMessage(ctx, tx, id, m, &o, sched, d.BaseURL, now)
		if err != nil || why != "" {
			return cmpErr(err, drop(why))
		}
		if _, err := tx.Exec(ctx, `UPDATE messages SET attempts = attempts + 1 WHERE id = $1`, id); err != nil {
			return err
		}
		out = &o
		return nil
	})
	return out, wait, err
}

// pendingMessage is a message about to be sent, with its patient.
type pendingMessage struct {
	status, first, key, link string
	patientID                int64
	offerID                  *int64
	kind                     clinic.MessageKind
	channel                  clinic.Channel
	visits, was              []visitRef
	to                       clinic.Recipient
	lang                     i18n.Lang
}

// writeMessage writes what m says into o, as things stand now; why is the
// reason not to send it at all ("" to send).
func (db *DB) writeMessage(ctx context.Context, tx pgx.Tx, id int64, m pendingMessage, o *clinic.Outgoing,
	sched clinic.Schedule, baseURL string, now time.Time) (why string, err error) {
	l := i18n.Locale{Lang: m.lang, Style: sched.Settings.Style}
	switch {
	case m.kind == clinic.MessageInvitation:
		o.Write(clinic.Invitation{ClinicName: sched.Settings.Name, FirstName: m.first, Link: m.link, Valid: InvitationTTL, Locale: l})
	case m.kind == clinic.MessagePEG:
		link, _ := url.JoinPath(baseURL, "portal", "journal")
		o.Write(clinic.PEGReminder{ClinicName: sched.Settings.Name, FirstName: m.first, Link: link, Locale: l})
	case m.kind == clinic.MessageOffer && m.offerID != nil:
		n, err := db.offerNotice(ctx, tx, id, *m.offerID, m.patientID, sched, l, baseURL, now)
		if err != nil || n == nil {
			return "The slot was taken or the offer ended before this message went out.", err
		}
		o.Write(n)
	default:
		n, err := db.visitNotice(ctx, tx, id, m.kind, m.visits, m.was, sched, l, baseURL, now)
		if err != nil || n == nil {
			return "The visit moved or was cancelled since: this message no longer holds.", err
		}
		o.Write(n)
	}
	return "", nil
}

// VisitLinkURL is a visit link's address.
func VisitLinkURL(baseURL, token string) string {
	u, _ := url.JoinPath(baseURL, "v", token)
	return u
}

func hostOf(baseURL string) string {
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "infusiondesk.invalid"
}

// off says why a channel is off on this server; "" when it is on.
func (d Delivery) off(c clinic.Channel) string {
	switch {
	case c == clinic.ChannelEmail && d.Email == nil:
		return cmp.Or(d.EmailOff, "no mail server is configured.")
	case c == clinic.ChannelSMS && d.SMS == nil:
		return cmp.Or(d.SMSOff, "no text-message gateway is configured.")
	}
	return ""
}

// visitNotice writes a message about visits as they stand now, with a
// fresh visit link; nil when none of its visits holds any more.
func (db *DB) visitNotice(ctx context.Context, tx pgx.Tx, id int64, kind clinic.MessageKind, visits, was []visitRef,
	sched clinic.Schedule, l i18n.Locale, baseURL string, now time.Time) (*clinic.Notice, error) {
	n, linkTo, err := noticeFor(ctx, tx, kind, visits, was, sched, now)
	if n != nil {
		n.Locale = l
	}
	if err != nil || n == nil || linkTo == 0 {
		return n, err
	}
	token, hash := auth.NewToken()
	if _, err := tx.Exec(ctx, `INSERT INTO visit_links (token_hash, appointment_id, message_id) VALUES ($1, $2, $3)`, hash, linkTo, id); err != nil {
		return nil, err
	}
	n.Link = VisitLinkURL(baseURL, token)
	return n, nil
}

// noticeFor writes what a message about visits says, from the visits as
// they stand: those no longer as the message was written are left out
// (nil when none is left), and the visit its link is for (0 for none).
func noticeFor(ctx context.Context, tx pgx.Tx, kind clinic.MessageKind, visits, was []visitRef, sched clinic.Schedule, now time.Time) (*clinic.Notice, int64, error) {
	ids := make([]int64, len(visits))
	for i, v := range visits {
		ids[i] = v.ID
	}
	current, err := queryAppointments(ctx, tx, `WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, 0, err
	}
	byID := map[int64]clinic.Appointment{}
	for _, a := range current {
		byID[a.ID] = a
	}
	n := &clinic.Notice{Kind: kind, ClinicName: sched.Settings.Name, ClinicPhone: sched.Settings.Phone,
		ClinicAddress: sched.Settings.Address, Loc: sched.Loc}
	var linkTo int64
	for _, v := range visits {
		a, ok := byID[v.ID]
		holds := ok && a.Start.Equal(v.Start)
		if kind == clinic.MessageCancelled {
			holds = holds && a.Status == clinic.StatusCancelled
		} else {
			holds = holds && a.Status == clinic.StatusBooked && a.Start.After(now)
		}
		if !holds {
			continue
		}
		n.Visits = append(n.Visits, clinic.NoticeVisit{Kind: a.Kind, Start: a.Start, End: a.End})
		if linkTo == 0 && kind != clinic.MessageCancelled {
			linkTo = a.ID
		}
	}
	if len(n.Visits) == 0 {
		return nil, 0, nil
	}
	for _, w := range was {
		n.Was = append(n.Was, clinic.NoticeVisit{Start: w.Start})
	}
	return n, linkTo, nil
}

// betweenVisitsArgs is the hourly job of the work between visits.
type betweenVisitsArgs struct{}

func (betweenVisitsArgs) Kind() string { return "between_visits" }

type betweenVisitsWorker struct {
	river.WorkerDefaults[betweenVisitsArgs]
	db *DB
	d  Delivery
}

// Work recomputes the plans whose signals the day may have changed and
// schedules the weekly PEG reminders due.
func (w *betweenVisitsWorker) Work(ctx context.Context, _ *river.Job[betweenVisitsArgs]) error {
	now := w.d.now()
	plans, err := w.db.RefreshSignals(ctx, now)
	if err != nil {
		return err
	}
	reminders, err := w.db.SchedulePEGReminders(ctx, now)
	if err != nil {
		return err
	}
	w.d.Log.Info("between visits", "plans_recomputed", plans, "peg_reminders", reminders)
	return nil
}
