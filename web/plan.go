package web

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// PlanBox is a patient's maintenance plan as the desk and physician see it.
type PlanBox struct {
	PatientID int64
	Phase     clinic.Phase
	Plan      clinic.Plan
	Slot      *clinic.Slot
	ChairName string
	Loc       *time.Location
	Key       string // idempotency key for "book the suggested slot"
}

// SlotText is the suggested slot in words.
func (b PlanBox) SlotText(ctx context.Context) string {
	if b.Slot == nil {
		return ""
	}
	return fmt.Sprintf("%s %s · %s", dateAt(ctx, b.Slot.Start, b.Loc, i18n.Short), clock(ctx, b.Slot.Start, b.Loc), b.ChairName)
}

// ReliefChart is the chart of relief per infusion and the intervals given,
// laid out for an inline SVG: each infusion a column with a bar for its
// observed relief (hatched when still holding or unknown) and a label,
// and the interval to the next infusion written under it.
type ReliefChart struct {
	Width, Height int
	Columns       []ChartColumn
	MaxDays       int
	Axis          []ChartTick
	BaseY         int
}

// ChartColumn is one infusion in the chart.
type ChartColumn struct {
	X, W         int
	BarY, BarH   int
	Label        string // "42 d", "≥ 20 d", "?"
	Date         string
	Interval     string // "→ 42 d" to the next infusion
	Observed     bool   // relief ended: a solid bar
	IntervalLine int    // the y of the interval marker; 0 when none
	Title        string // the column in words, for screen readers
}

// ChartTick is a line of the day axis.
type ChartTick struct {
	Y     int
	Label string
}

// NewReliefChart lays out the relevant infusions (oldest first).
func NewReliefChart(ctx context.Context, history []clinic.InfusionHistory, today clinic.Date) ReliefChart {
	rel := clinic.Relevant(history)
	c := ReliefChart{Width: 640, Height: 240, BaseY: 190, MaxDays: 28}
	for i, h := range rel {
		if d, ok := h.Duration(); ok && d > c.MaxDays {
			c.MaxDays = d
		}
		if i+1 < len(rel) {
			if g := rel[i+1].GivenOn.DaysSince(h.GivenOn); g > c.MaxDays {
				c.MaxDays = g
			}
		}
	}
	c.MaxDays = (c.MaxDays + 13) / 14 * 14
	scale := func(days int) int { return days * 160 / c.MaxDays }
	for d := 0; d <= c.MaxDays; d += 14 {
		c.Axis = append(c.Axis, ChartTick{Y: c.BaseY - scale(d), Label: strconv.Itoa(d) + " d"})
	}
	if len(rel) == 0 {
		return c
	}
	step := (c.Width - 60) / max(len(rel), 1)
	step = min(step, 90)
	for i, h := range rel {
		col := ChartColumn{X: 50 + i*step, W: step * 6 / 10, Date: date(ctx, h.GivenOn, i18n.DayMonth)}
		days, observed := h.Duration()
		switch {
		case observed:
			col.Label, col.Observed = strconv.Itoa(days)+" d", true
			col.Title = fmt.Sprintf("Infusion of %s: relief lasted %d days", date(ctx, h.GivenOn, i18n.Plain), days)
		case h.Relief != nil:
			days = h.Relief.On.DaysSince(h.GivenOn)
			col.Label = "≥ " + strconv.Itoa(days) + " d"
			col.Title = fmt.Sprintf("Infusion of %s: still relieved %d days after", date(ctx, h.GivenOn, i18n.Plain), days)
		default:
			days = 0
			col.Label = "no report"
			col.Title = fmt.Sprintf("Infusion of %s: no relief report", date(ctx, h.GivenOn, i18n.Plain))
		}
		col.BarH = max(scale(days), 2)
		col.BarY = c.BaseY - col.BarH
		if i+1 < len(rel) {
			g := rel[i+1].GivenOn.DaysSince(h.GivenOn)
			col.Interval = "→ " + strconv.Itoa(g) + " d"
			col.IntervalLine = c.BaseY - scale(g)
			col.Title += fmt.Sprintf("; the next infusion came %d days later", g)
		}
		c.Columns = append(c.Columns, col)
	}
	return c
}

func itoa(n int) string { return strconv.Itoa(n) }

// count writes n with its noun: "1 appointment", "3 appointments", "no
// appointments" (many is the plural; "" adds an s).
func count(n int, one, many string) string {
	if many == "" {
		many = one + "s"
	}
	switch n {
	case 0:
		return "no " + many
	case 1:
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// IntervalsText writes a course's maintenance numbers in one line.
func IntervalsText(iv clinic.Intervals) string {
	fixed := "planner"
	if iv.Fixed != nil {
		fixed = fmt.Sprintf("fixed %d d", *iv.Fixed)
	}
	out := fmt.Sprintf("%s; first %d d, %d–%d d, lead %d d, step %d d", fixed, iv.First, iv.Min, iv.Max, iv.Lead, iv.Step)
	if iv.SelfBooking != (clinic.SelfBooking{}) { // history from before self-booking has none
		out += fmt.Sprintf("; patient books −%d/+%d d", iv.DaysBefore, iv.DaysAfter)
	}
	return out
}

func flagLabel(code string) string {
	switch code {
	case clinic.FlagReliefShortening:
		return "Relief shortening"
	case clinic.FlagIntervalAtMinimum:
		return "Interval at minimum"
	case clinic.FlagOverrideOutsideRange:
		return "Override outside range"
	case clinic.FlagDoseEscalating:
		return "Dose escalating"
	case clinic.FlagReportMissing:
		return "Report missing"
	case clinic.FlagDueNotBooked:
		return "Due, not booked"
	}
	return code
}

// capitalFirst starts s with a capital letter ("no appointments" → "No appointments").
func capitalFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// agree is the verb form that agrees with a count of things: one for 1,
// many otherwise ("fits"/"fit").
func agree(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
