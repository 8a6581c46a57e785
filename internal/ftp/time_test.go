package ftp

import (
	"errors"
	"testing"
	"time"
)

func TestFormatTime(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 24, 14, 35, 0, 0, time.UTC), "20261124143500"},
		{time.Date(2026, 11, 24, 15, 35, 0, 999999999, cet), "20261124143500"},
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), "19700101000000"},
		{time.Time{}, "10000101000000"},
		{time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC), "99991231235959"},
		{time.Date(999, 12, 31, 23, 59, 59, 0, time.UTC), "10000101000000"},
	}
	for _, tt := range tests {
		if got := FormatTime(tt.t); got != tt.want {
			t.Errorf("FormatTime(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		s    string
		want time.Time
		err  error
	}{
		{"20261124143500", time.Date(2026, 11, 24, 14, 35, 0, 0, time.UTC), nil},
		{"20261124143500.5", time.Date(2026, 11, 24, 14, 35, 0, 500000000, time.UTC), nil},
		{"20261124143500.123", time.Date(2026, 11, 24, 14, 35, 0, 123000000, time.UTC), nil},
		{"20261124143500.1234567891234", time.Date(2026, 11, 24, 14, 35, 0, 123456789, time.UTC), nil},
		{"20240229000000", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), nil},
		{"10000101000000", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), nil},
		{"99991231235959", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), nil},
		{"20161231235960", time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC), nil}, // leap second

		{"", time.Time{}, ErrBadTime},
		{"2026112414350", time.Time{}, ErrBadTime},
		{"20261124143500.", time.Time{}, ErrBadTime},
		{"20261124143500.x", time.Time{}, ErrBadTime},
		{"20261124143500,5", time.Time{}, ErrBadTime},
		{"20261124143500Z", time.Time{}, ErrBadTime},
		{"202611241435001", time.Time{}, ErrBadTime},
		{"2026112414350a", time.Time{}, ErrBadTime},
		{"+2026112414350", time.Time{}, ErrBadTime},
		{" 20261124143500", time.Time{}, ErrBadTime},
		{"09991231235959", time.Time{}, ErrBadTime},
		{"20261324143500", time.Time{}, ErrBadTime},
		{"20260024143500", time.Time{}, ErrBadTime},
		{"20230229000000", time.Time{}, ErrBadTime},
		{"20240230000000", time.Time{}, ErrBadTime},
		{"20240431000000", time.Time{}, ErrBadTime},
		{"20240100000000", time.Time{}, ErrBadTime},
		{"20240101240000", time.Time{}, ErrBadTime},
		{"20240101236000", time.Time{}, ErrBadTime},
		{"20240101235961", time.Time{}, ErrBadTime},
		{"99991231235960", time.Time{}, ErrBadTime},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.s)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v, %v", tt.s, got, err, tt.want, tt.err)
		}
		if err == nil && got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) location = %v, want UTC", tt.s, got.Location())
		}
	}
}

func TestTimeRoundTrip(t *testing.T) {
	for _, want := range []time.Time{
		time.Date(2026, 11, 24, 14, 35, 0, 0, time.UTC),
		time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		got, err := ParseTime(FormatTime(want))
		if err != nil || !got.Equal(want) {
			t.Errorf("round trip of %v: %v, %v", want, got, err)
		}
	}
}
