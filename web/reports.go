package web

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// The reports' pages (issue 20): each chart an inline SVG with its numbers
// written on it and a table beside it, readable without colour.

// ReportTab is one report in the reports' own navigation.
type ReportTab struct {
	Label, Path string
}

// ReportTabs are the reports a role opens: the desk the forecast and the
// loading work list; admins and physicians every report.
func ReportTabs(r clinic.Role) []ReportTab {
	if r == clinic.RoleFrontDesk {
		return []ReportTab{{"Forecast", "/reports/forecast"}, {"Loading completion", "/reports/loading"}}
	}
	return []ReportTab{{"Utilisation", "/reports/utilisation"}, {"Forecast", "/reports/forecast"},
		{"Loading completion", "/reports/loading"}, {"Outcomes", "/reports/outcomes"}}
}

// ReportFrame is what every report page has: its tabs, the current one,
// and the CSV download of what it shows.
type ReportFrame struct {
	Tabs    []ReportTab
	Path    string
	CSV     string // the page's URL with format=csv
	Message string // a refused filter, in words
	Fields  map[string]string
}

// CSVLink is path?query with format=csv.
func CSVLink(path string, q url.Values) string {
	c := url.Values{}
	for k, v := range q {
		c[k] = v
	}
	c.Set("format", "csv")
	return path + "?" + c.Encode()
}

// Bar is one stacked column of a bar chart: its segments bottom up, a
// limit (capacity) drawn as a line, and the number written on it.
type Bar struct {
	Axis   string // under the column
	Values []float64
	Limit  float64 // 0: none
	Text   string  // written above the column
	Alert  bool    // drawn with a warning mark (a problem week)
	Title  string  // the column in words
}

// BarChart is a stacked bar chart laid out for an inline SVG.
type BarChart struct {
	ID, Title, Desc string
	Width, Height   int
	BaseY           int
	Axis            []ChartTick
	Cols            []BarCol
	Series          []string // the segments' names, bottom up (the legend)
}

// BarCol is a laid-out column.
type BarCol struct {
	X, W     int
	Segs     []BarSeg
	TextY    int
	Text     string
	Axis     string
	LimitY   int // 0: none
	Alert    bool
	Title    string
	Patterns []string
}

// BarSeg is one segment of a column.
type BarSeg struct {
	Y, H  int
	Class string
	Text  string // its value, written inside when tall enough
}

// NewBarChart lays out bars; unit names the axis ("h", "%", "d").
func NewBarChart(id, title, desc string, series []string, bars []Bar, unit string) BarChart {
	c := BarChart{ID: id, Title: title, Desc: desc, Width: 720, Height: 260, BaseY: 210, Series: series}
	const top = 24
	maxV := 1.0
	for _, b := range bars {
		sum := 0.0
		for _, v := range b.Values {
			sum += v
		}
		maxV = math.Max(maxV, math.Max(sum, b.Limit))
	}
	step := niceStep(maxV / 4)
	maxV = math.Ceil(maxV/step) * step
	y := func(v float64) int { return c.BaseY - int(math.Round(v*float64(c.BaseY-top)/maxV)) }
	for v := 0.0; v <= maxV+step/2; v += step {
		c.Axis = append(c.Axis, ChartTick{Y: y(v), Label: num1(v) + unit})
	}
	n := max(len(bars), 1)
	slot := (c.Width - 60) / n
	w := max(min(slot*6/10, 60), 6)
	for i, b := range bars {
		col := BarCol{X: 50 + i*slot + (slot-w)/2, W: w, Text: b.Text, Axis: b.Axis, Alert: b.Alert, Title: b.Title}
		sum := 0.0
		for k, v := range b.Values {
			y0, y1 := y(sum), y(sum+v)
			sum += v
			seg := BarSeg{Y: y1, H: y0 - y1, Class: "seg-" + strconv.Itoa(k)}
			if seg.H >= 14 && v > 0 {
				seg.Text = num1(v)
			}
			col.Segs = append(col.Segs, seg)
		}
		col.TextY = y(sum) - 5
		if b.Limit > 0 {
			col.LimitY = y(b.Limit)
			col.TextY = min(col.TextY, col.LimitY-5)
		}
		c.Cols = append(c.Cols, col)
	}
	return c
}

// niceStep rounds a step up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if x <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// num1 writes a number with at most one decimal: 7, 7.5.
func num1(x float64) string { return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64) }

// Hours writes chair-minutes as hours: "7.5".
func Hours(minutes int) string { return num1(float64(minutes) / 60) }

// Percent writes a share: "72%", "—" when there is nothing to share.
func Percent(x float64, any bool) string {
	if !any {
		return "—"
	}
	return strconv.Itoa(int(math.Round(x*100))) + "%"
}

// UtilisationView is the utilisation page.
type UtilisationView struct {
	ReportFrame
	From, To string
	U        clinic.Utilisation
	Heat     HeatMap
	Weekdays BarChart
}

// HeatMap is the weekday × hour grid: each cell's utilisation written in
// it, its shade one of five steps (the number says it without colour).
type HeatMap struct {
	Width, Height int
	Hours         []HeatHour
	Rows          []HeatRow
}

// HeatHour is a column heading.
type HeatHour struct {
	X     int
	Label string
}

// HeatRow is a weekday.
type HeatRow struct {
	Y     int
	Label string
	Cells []HeatCell
}

// HeatCell is one weekday's hour.
type HeatCell struct {
	X     int
	Text  string
	Level int // 0–4; -1 closed
	Title string
}

// NewHeatMap lays out the hours that are ever open.
func NewHeatMap(u clinic.Utilisation) HeatMap {
	var hours []int
	for h, c := range u.ByHour {
		if c.Open > 0 || c.Booked > 0 {
			hours = append(hours, h)
		}
	}
	m := HeatMap{Width: 60 + 46*max(len(hours), 1), Height: 30 + 7*30}
	for i, h := range hours {
		m.Hours = append(m.Hours, HeatHour{X: 60 + i*46 + 23, Label: fmt.Sprintf("%02d", h)})
	}
	for r, wd := range clinic.MondayFirst {
		row := HeatRow{Y: 30 + r*30, Label: wd.String()[:3]}
		for i, h := range hours {
			c := u.Heat[wd][h]
			cell := HeatCell{X: 60 + i*46, Level: -1, Text: "", Title: fmt.Sprintf("%s %02d:00 closed", wd, h)}
			if c.Open > 0 {
				cell.Level = min(int(c.Ratio()*5), 4)
				cell.Text = Percent(c.Ratio(), true)
				cell.Title = fmt.Sprintf("%s %02d:00: %s of %s chair-hours booked (%s)", wd, h, Hours(c.Booked), Hours(c.Open), cell.Text)
			}
			row.Cells = append(row.Cells, cell)
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

// NewUtilisationView lays out the page.
func NewUtilisationView(f ReportFrame, from, to string, u clinic.Utilisation) UtilisationView {
	v := UtilisationView{ReportFrame: f, From: from, To: to, U: u, Heat: NewHeatMap(u)}
	var bars []Bar
	for _, wd := range clinic.MondayFirst {
		c := u.ByWeekday[wd]
		bars = append(bars, Bar{Axis: wd.String()[:3], Values: []float64{float64(c.Booked) / 60}, Limit: float64(c.Open) / 60,
			Text: Percent(c.Ratio(), c.Open > 0), Title: fmt.Sprintf("%s: %s of %s chair-hours booked", wd, Hours(c.Booked), Hours(c.Open))})
	}
	v.Weekdays = NewBarChart("weekday-chart", "Booked chair-hours by weekday", "Each bar is the booked chair-hours of a weekday; the line above it the open chair-hours; the share is written on top.",
		[]string{"Booked"}, bars, "")
	return v
}

// ForecastView is the forecast page.
type ForecastView struct {
	ReportFrame
	F        clinic.Forecast
	Weeks    int
	Chart    BarChart
	Problems []clinic.ForecastDay
	Desk     bool // the desk books from the day's page
}

// NewForecastView lays out the page.
func NewForecastView(f ReportFrame, fc clinic.Forecast, weeks int, desk bool) ForecastView {
	v := ForecastView{ReportFrame: f, F: fc, Weeks: weeks, Desk: desk}
	var bars []Bar
	for _, w := range fc.Weeks {
		bars = append(bars, Bar{Axis: fmt.Sprintf("%s %d", w.Start.Format("Jan"), w.Start.Day), Values: []float64{float64(w.BookedMinutes) / 60, float64(w.PlannedMinutes) / 60},
			Limit: float64(w.CapacityMinutes) / 60, Alert: w.ProblemDays > 0, Text: Hours(w.BookedMinutes + w.PlannedMinutes),
			Title: fmt.Sprintf("Week of %s: %s booked and %s planned of %s open chair-hours; %d problem days", w.Start, Hours(w.BookedMinutes), Hours(w.PlannedMinutes), Hours(w.CapacityMinutes), w.ProblemDays)})
		for _, d := range w.Days {
			if d.Problem != nil {
				v.Problems = append(v.Problems, d)
			}
		}
	}
	v.Chart = NewBarChart("forecast-chart", "Chair-hours a week: booked, planned, open",
		"Each week's column: booked chair-hours at the bottom, planned (due by the plans, not booked) hatched on top; the line is the open chair-hours; the total is written above; a week with a problem day is marked with !.",
		[]string{"Booked", "Planned"}, bars, "")
	return v
}

// ForecastDayView is one day of the forecast: who is planned, and room.
type ForecastDayView struct {
	ReportFrame
	Day    clinic.ForecastDay
	Names  map[int64]string
	Desk   bool
	Weeks  int
	Exists bool
}

// BookURL is the desk's booking form for a planned patient on a day.
func BookURL(patientID int64, d clinic.Date) string {
	return "/desk/book?patient=" + strconv.FormatInt(patientID, 10) + "&date=" + d.String()
}

// ForecastDayURL is a forecast day's page.
func ForecastDayURL(d clinic.Date) string { return "/reports/forecast/" + d.String() }

// CompletionView is the loading completion page.
type CompletionView struct {
	ReportFrame
	From, To string
	C        clinic.Completion
	Today    clinic.Date
	Chart    BarChart
	Desk     bool
	Notice   string
	Loc      *time.Location
}

// NewCompletionView lays out the page.
func NewCompletionView(f ReportFrame, from, to string, c clinic.Completion, today clinic.Date, loc *time.Location, desk bool) CompletionView {
	v := CompletionView{ReportFrame: f, From: from, To: to, C: c, Today: today, Desk: desk, Loc: loc}
	var bars []Bar
	for n, k := range c.StoppedAfter {
		label := fmt.Sprintf("after %d", n)
		if n == 0 {
			label = "before 1st"
		}
		bars = append(bars, Bar{Axis: label, Values: []float64{float64(k)}, Text: strconv.Itoa(k), Title: fmt.Sprintf("%d stopped %s", k, label)})
	}
	v.Chart = NewBarChart("stopped-chart", "Stopped series by sessions given", "Each bar counts the stopped series by how many sessions the patient had had; the number is written on top.",
		[]string{"Stopped"}, bars, "")
	return v
}

// OutcomesView is the outcomes page.
type OutcomesView struct {
	ReportFrame
	From, To   string
	Condition  string
	ProtocolID string
	Protocols  []clinic.Protocol
	Outcomes   []clinic.ConditionOutcome
	Charts     map[clinic.Condition]BarChart
}

// NewOutcomesView lays out the page: per condition, the median relief by
// infusion number.
func NewOutcomesView(f ReportFrame, from, to, condition, protocol string, protocols []clinic.Protocol, os []clinic.ConditionOutcome) OutcomesView {
	v := OutcomesView{ReportFrame: f, From: from, To: to, Condition: condition, ProtocolID: protocol, Protocols: protocols, Outcomes: os,
		Charts: map[clinic.Condition]BarChart{}}
	for _, o := range os {
		var bars []Bar
		for _, c := range o.Relief {
			text := "—"
			if c.N > 0 {
				text = num1(c.Median) + " d"
			}
			bars = append(bars, Bar{Axis: "#" + strconv.Itoa(c.Number), Values: []float64{c.Median}, Text: text,
				Title: fmt.Sprintf("Infusion %d: median relief %s over %d reports", c.Number, text, c.N)})
		}
		v.Charts[o.Condition] = NewBarChart("relief-"+string(o.Condition), "Median relief (days) by infusion number: "+o.Condition.Label(),
			"Each bar is the median of the observed relief durations after that infusion of a course; the number of days is written on top.",
			[]string{"Median relief"}, bars, "")
	}
	return v
}

// levelClass names a heat map cell's shade.
func levelClass(level int) string {
	if level < 0 {
		return "closed"
	}
	return strconv.Itoa(level)
}

func twoDigits(n int) string { return fmt.Sprintf("%02d", n) }
