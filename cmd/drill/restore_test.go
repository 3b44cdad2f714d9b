package main

import (
	"encoding/json"
	"testing"
)

func TestCompareRestored(t *testing.T) {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	atT := map[int64]json.RawMessage{1: raw(`{"id":1,"status":"booked"}`), 2: raw(`{"id":2,"status":"booked"}`)}
	tests := []struct {
		name   string
		got    map[int64]json.RawMessage
		before []int64
		after  []int64
		want   restoreCheck
	}{
		{"exactly the clinic at T", map[int64]json.RawMessage{1: atT[1], 2: atT[2]}, []int64{1, 2}, []int64{3}, restoreCheck{}},
		{"one missing", map[int64]json.RawMessage{1: atT[1]}, []int64{1}, nil, restoreCheck{missing: 1}},
		{"one changed", map[int64]json.RawMessage{1: atT[1], 2: raw(`{"id":2,"status":"cancelled"}`)}, nil, nil, restoreCheck{changed: 1}},
		{"a booking from after T", map[int64]json.RawMessage{1: atT[1], 2: atT[2], 3: raw(`{"id":3}`)}, nil, []int64{3}, restoreCheck{extra: 1, fromAfterT: 1}},
		{"acknowledged before T yet not listed at T", map[int64]json.RawMessage{1: atT[1], 2: atT[2]}, []int64{4}, nil, restoreCheck{missing: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := compareRestored(atT, tt.got, [][]int64{tt.before}, tt.after); got != tt.want {
				t.Errorf("compareRestored = %+v, want %+v", got, tt.want)
			}
		})
	}
}
