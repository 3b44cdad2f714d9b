package web

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// The physician's chart of the signals between visits: PEG and the
// function score week by week, with the infusions marked, beside relief.

// SignalWeeks is how many weeks the chart shows, ending today.
const SignalWeeks = 26

// PEGPoint is one PEG answer, from the journal or a visit.
type PEGPoint struct {
	On  clinic.Date
	PEG clinic.PEG
}

// SignalChart is the weeks laid out for an inline SVG, and as a table.
type SignalChart struct {
	Width, Height int
	Weeks         []SignalWeek // oldest first, only weeks with something to show
	PEGLine       string       // polyline points
	FunctionLine  string
	Axis          []ChartTick
}

// SignalWeek is one week of the chart: its means (tenths of a point; -1
// when none) and the infusions given in it.
type SignalWeek struct {
	X             int
	Ending        clinic.Date
	PEG, Function int // tenths; -1 when the week has none
	PEGY, FuncY   int
	Infusions     []clinic.Date
	Title         string
}

// PEGText and FunctionText write a week's means: "6.3", or "—".
func (w SignalWeek) PEGText() string      { return tenthsText(w.PEG) }
func (w SignalWeek) FunctionText() string { return tenthsText(w.Function) }

func tenthsText(t int) string {
	if t < 0 {
		return "—"
	}
	return fmt.Sprintf("%d.%d", t/10, t%10)
}

// NewSignalChart lays out the last SignalWeeks weeks to today: the mean
// PEG score and the mean function score (sleep, mobility, mood) of each
// week, and the infusions given.
func NewSignalChart(ctx context.Context, journal []clinic.JournalEntry, peg []PEGPoint, infusions []clinic.Date, today clinic.Date) SignalChart {
	c := SignalChart{Width: 640, Height: 230}
	const top, base = 20, 180 // y of 10 and of 0
	y := func(tenths int) int { return base - tenths*(base-top)/100 }
	for v := 0; v <= 10; v += 2 {
		c.Axis = append(c.Axis, ChartTick{Y: y(v * 10), Label: strconv.Itoa(v)})
	}
	week := func(d clinic.Date) int { return (today.DaysSince(d)) / 7 } // 0: the week ending today
	type sums struct{ peg, pegN, fn, fnN int }
	acc := make([]sums, SignalWeeks)
	inf := make([][]clinic.Date, SignalWeeks)
	for _, g := range peg {
		if k := week(g.On); k >= 0 && k < SignalWeeks {
			acc[k].peg, acc[k].pegN = acc[k].peg+g.PEG.Score(), acc[k].pegN+1
		}
	}
	for _, e := range journal {
		if s, ok := e.FunctionScore(); ok {
			if k := week(e.On); k >= 0 && k < SignalWeeks {
				acc[k].fn, acc[k].fnN = acc[k].fn+s, acc[k].fnN+1
			}
		}
	}
	for _, d := range infusions {
		if k := week(d); k >= 0 && k < SignalWeeks {
			inf[k] = append(inf[k], d)
		}
	}
	step := (c.Width - 70) / (SignalWeeks - 1)
	var pegPts, fnPts []string
	for k := SignalWeeks - 1; k >= 0; k-- {
		a := acc[k]
		if a.pegN == 0 && a.fnN == 0 && len(inf[k]) == 0 {
			continue
		}
		w := SignalWeek{X: 50 + (SignalWeeks-1-k)*step, Ending: today.AddDays(-7 * k), PEG: -1, Function: -1, Infusions: inf[k]}
		var words []string
		if a.pegN > 0 {
			w.PEG = (a.peg + a.pegN/2) / a.pegN
			w.PEGY = y(w.PEG)
			pegPts = append(pegPts, fmt.Sprintf("%d,%d", w.X, w.PEGY))
			words = append(words, "PEG "+w.PEGText())
		}
		if a.fnN > 0 {
			w.Function = (a.fn*10 + 3*a.fnN) / (6 * a.fnN) // sixths to tenths, rounded
			w.FuncY = y(w.Function)
			fnPts = append(fnPts, fmt.Sprintf("%d,%d", w.X, w.FuncY))
			words = append(words, "function "+w.FunctionText())
		}
		for _, d := range inf[k] {
			words = append(words, "infusion "+date(ctx, d, i18n.DayMonth))
		}
		w.Title = fmt.Sprintf("Week to %s: %s", date(ctx, w.Ending, i18n.Plain), strings.Join(words, ", "))
		c.Weeks = append(c.Weeks, w)
	}
	c.PEGLine, c.FunctionLine = strings.Join(pegPts, " "), strings.Join(fnPts, " ")
	return c
}
