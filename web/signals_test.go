package web

import (
	"context"
	"strings"
	"testing"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

func TestNewSignalChart(t *testing.T) {
	today := clinic.D(2026, 12, 3)
	n := func(v int) *int { return &v }
	journal := []clinic.JournalEntry{
		{On: today, Sleep: n(4), Mobility: n(6)},           // 5.0
		{On: today.AddDays(-3), Sleep: n(7)},               // 7.0: this week's mean 6.0
		{On: today.AddDays(-7), Mood: n(3)},                // last week: 3.0
		{On: today.AddDays(-9), Pain: 9},                   // no function score
		{On: today.AddDays(-7 * SignalWeeks), Sleep: n(1)}, // before the chart
	}
	peg := []PEGPoint{{today.AddDays(-1), clinic.PEG{Pain: 7, Enjoyment: 6, Activity: 6}}, {today.AddDays(-8), clinic.PEG{Pain: 8, Enjoyment: 8, Activity: 8}}}
	c := NewSignalChart(context.Background(), journal, peg, []clinic.Date{today.AddDays(-10), today.AddDays(-60)}, today)
	var got []string
	for _, w := range c.Weeks {
		got = append(got, w.Ending.String()+" PEG "+w.PEGText()+" function "+w.FunctionText()+" infusions "+strings.Repeat("▲", len(w.Infusions)))
	}
	want := []string{
		"2026-10-08 PEG — function — infusions ▲", // 60 days back: the week to Oct 8
		"2026-11-26 PEG 8.0 function 3.0 infusions ▲",
		"2026-12-03 PEG 6.3 function 6.0 infusions ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("weeks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Count(c.PEGLine, ",") != 2 || strings.Count(c.FunctionLine, ",") != 2 {
		t.Errorf("lines %q, %q", c.PEGLine, c.FunctionLine)
	}
	if empty := NewSignalChart(context.Background(), nil, nil, nil, today); len(empty.Weeks) != 0 {
		t.Errorf("an empty chart has weeks: %v", empty.Weeks)
	}
}
