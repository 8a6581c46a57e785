package ftp

import (
	"fmt"
	"time"
)

// timeLayout is the RFC 3659 time-val without its optional fraction.
const timeLayout = "20060102150405"

// FormatTime formats t as an RFC 3659 time value, YYYYMMDDHHMMSS in UTC,
// for MDTM replies and the modify fact. The fraction is dropped. Times
// outside the years 1000 to 9999 that RFC 3659 allows are clamped to that
// range, so a file stamped with Go's zero time or a far-future date still
// yields fourteen digits that clients can parse.
func FormatTime(t time.Time) string {
	return string(appendTime(make([]byte, 0, len(timeLayout)), t))
}

func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	switch y := t.Year(); {
	case y < 1000:
		t = time.Date(1000, time.January, 1, 0, 0, 0, 0, time.UTC)
	case y > 9999:
		t = time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC)
	}
	return t.AppendFormat(b, timeLayout)
}

// ParseTime parses an RFC 3659 time value, YYYYMMDDHHMMSS with an optional
// fraction of a second of any number of digits (".5", ".123"), in UTC, as
// sent with MFMT and MDTM. Every field is range-checked rather than
// normalised (year 1000 to 9999, days that exist in the month, second 60 for
// a leap second as RFC 3659 allows): 20240230 is an error, not March 1st. Fraction digits beyond
// nanoseconds are ignored.
func ParseTime(s string) (time.Time, error) {
	bad := func(reason string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("%w: %s: %s", ErrBadTime, quote(s), reason)
	}
	if len(s) < len(timeLayout) {
		return bad("want YYYYMMDDHHMMSS")
	}
	digits, frac := s[:len(timeLayout)], s[len(timeLayout):]
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			return bad("want YYYYMMDDHHMMSS")
		}
	}
	num := func(i, n int) int {
		v, _ := parseDecimal(digits[i:i+n], n)
		return v
	}
	year, month, day := num(0, 4), num(4, 2), num(6, 2)
	hour, minute, sec := num(8, 2), num(10, 2), num(12, 2)
	switch {
	case year < 1000:
		return bad("year before 1000")
	case month < 1 || month > 12:
		return bad("month out of range")
	case day < 1 || day > daysIn(time.Month(month), year):
		return bad("day out of range")
	case hour > 23 || minute > 59 || sec > 60:
		return bad("time of day out of range")
	}

	nsec := 0
	if frac != "" {
		if frac[0] != '.' || len(frac) == 1 {
			return bad("want .digits after the seconds")
		}
		scale := int(time.Second)
		for i := 1; i < len(frac); i++ {
			if !isDigit(frac[i]) {
				return bad("want .digits after the seconds")
			}
			scale /= 10
			nsec += int(frac[i]-'0') * scale
		}
	}
	// A leap second (60) is accepted as RFC 3659 allows and, time.Time
	// having no leap seconds, becomes the first second of the next minute.
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Year() > 9999 {
		return bad("year after 9999")
	}
	return t, nil
}

// daysIn returns the number of days in a month of the Gregorian calendar.
func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
