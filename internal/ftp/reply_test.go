package ftp

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestReplyString(t *testing.T) {
	tests := []struct {
		name string
		r    Reply
		want string
	}{
		{"single", NewReply(200, "Command okay."), "200 Command okay.\r\n"},
		{"no lines", Reply{Code: 200}, "200 \r\n"},
		{"empty line", NewReply(226, ""), "226 \r\n"},
		{"two lines", Reply{230, []string{"Welcome", "Logged in."}}, "230-Welcome\r\n230 Logged in.\r\n"},
		{
			"digit-leading middle lines are indented",
			Reply{211, []string{"Status:", "211 not the end", "123 nor this", "plain", " indented", "End"}},
			"211-Status:\r\n 211 not the end\r\n 123 nor this\r\nplain\r\n indented\r\n211 End\r\n",
		},
		{"first and last lines starting with digits", Reply{213, []string{"1 first", "2 last"}}, "213-1 first\r\n213 2 last\r\n"},
		{"LF splits", NewReply(550, "a\nb"), "550-a\r\n550 b\r\n"},
		{"CRLF splits once", NewReply(550, "a\r\nb"), "550-a\r\n550 b\r\n"},
		{"lone CR splits", NewReply(550, "a\rb"), "550-a\r\n550 b\r\n"},
		{"LF CR splits twice", NewReply(550, "a\n\rb"), "550-a\r\n\r\n550 b\r\n"},
		{"trailing LF gives empty last line", NewReply(550, "a\n"), "550-a\r\n550 \r\n"},
		{"forged terminator is indented", NewReply(550, "x\r\n550 forged\r\ny"), "550-x\r\n 550 forged\r\n550 y\r\n"},
		{"IAC doubled", NewReply(257, "\"\xff\" created"), "257 \"\xff\xff\" created\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			var b strings.Builder
			n, err := tt.r.WriteTo(&b)
			if err != nil || b.String() != tt.want || n != int64(len(tt.want)) {
				t.Errorf("WriteTo wrote %q, %d, %v; want %q", b.String(), n, err, tt.want)
			}
		})
	}
}

// countingWriter records how many Write calls it received.
type countingWriter struct {
	strings.Builder
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Builder.Write(p)
}

func TestReplyWriteToSingleWrite(t *testing.T) {
	var w countingWriter
	FeatReply([]string{"UTF8", "EPSV", "MLST type*;"}).WriteTo(&w)
	if w.writes != 1 {
		t.Errorf("WriteTo made %d writes, want 1", w.writes)
	}
}

func TestFeatReply(t *testing.T) {
	got := FeatReply([]string{"AUTH TLS", "PBSZ", "PROT", "UTF8", DefaultFacts.Feature()}).String()
	want := "211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n UTF8\r\n MLST type*;size*;modify*;perm*;unique*;\r\n211 End\r\n"
	if got != want {
		t.Errorf("FeatReply = %q, want %q", got, want)
	}
	if got, want := FeatReply(nil).String(), "211-Features:\r\n211 End\r\n"; got != want {
		t.Errorf("FeatReply(nil) = %q, want %q", got, want)
	}
}

func TestReplyMessage(t *testing.T) {
	r := Reply{211, []string{"a", "b", "c"}}
	if got := r.Message(); got != "a\nb\nc" {
		t.Errorf("Message() = %q", got)
	}
}

func TestReplyClasses(t *testing.T) {
	tests := []struct {
		code                                       int
		pre, comp, inter, pos, trans, perm, neg, p bool
	}{
		{150, true, false, false, true, false, false, false, false},
		{226, false, true, false, true, false, false, false, false},
		{331, false, false, true, true, false, false, false, false},
		{425, false, false, false, false, true, false, true, false},
		{550, false, false, false, false, false, true, true, false},
		{631, false, false, false, false, false, false, false, true},
		{99, false, false, false, false, false, false, false, false},
	}
	for _, tt := range tests {
		r := Reply{Code: tt.code}
		got := []bool{r.Preliminary(), r.Completion(), r.Intermediate(), r.Positive(), r.Transient(), r.Permanent(), r.Negative(), r.Protected()}
		want := []bool{tt.pre, tt.comp, tt.inter, tt.pos, tt.trans, tt.perm, tt.neg, tt.p}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("code %d: classes %v, want %v", tt.code, got, want)
		}
	}
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  Reply
		err   error
	}{
		{"single", "220 Service ready\r\n", NewReply(220, "Service ready"), nil},
		{"bare LF", "220 ready\n", NewReply(220, "ready"), nil},
		{"code only", "220\r\n", NewReply(220, ""), nil},
		{"code and space", "220 \r\n", NewReply(220, ""), nil},
		{"multi-line", "230-Welcome\r\n to port21\r\n230 Logged in\r\n", Reply{230, []string{"Welcome", " to port21", "Logged in"}}, nil},
		{
			"middle lines with the code and digits",
			"211-Status\r\n211-still going\r\n 211 indented\r\n212 other code\r\n211\r\n",
			Reply{211, []string{"Status", "211-still going", " 211 indented", "212 other code", ""}},
			nil,
		},
		{"multi-line with empty first", "211-\r\n211 End\r\n", Reply{211, []string{"", "End"}}, nil},
		{"protected reply", "631 base64stuff\r\n", NewReply(631, "base64stuff"), nil},
		{"IAC IAC", "257 \"\xff\xff\"\r\n", NewReply(257, "\"\xff\""), nil},

		{"no input", "", Reply{}, io.EOF},
		{"no code", "hello\r\n", Reply{}, ErrMalformedReply},
		{"short code", "22 ready\r\n", Reply{}, ErrMalformedReply},
		{"bad separator", "220:ready\r\n", Reply{}, ErrMalformedReply},
		{"code 099", "099 x\r\n", Reply{}, ErrMalformedReply},
		{"code 700", "700 x\r\n", Reply{}, ErrMalformedReply},
		{"unterminated multi-line", "211-a\r\nb\r\n", Reply{}, io.ErrUnexpectedEOF},
		{"unterminated line", "220 rea", Reply{}, io.ErrUnexpectedEOF},
		{"too long", strings.Repeat("2", 5000) + "\r\n", Reply{}, ErrLineTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadReply(NewReader(strings.NewReader(tt.input)))
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("ReadReply error = %v, want %v", err, tt.err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReadReply = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestReadReplyLimit(t *testing.T) {
	input := "211-a\r\nb\r\nc\r\n211 d\r\n"
	if _, err := ReadReplyLimit(NewReader(strings.NewReader(input)), 3); !errors.Is(err, ErrReplyTooLong) {
		t.Errorf("4 lines with limit 3: err = %v, want ErrReplyTooLong", err)
	}
	if r, err := ReadReplyLimit(NewReader(strings.NewReader(input)), 4); err != nil || len(r.Lines) != 4 {
		t.Errorf("4 lines with limit 4: %v, %v", r, err)
	}
	endless := strings.NewReader("211-a\r\n" + strings.Repeat("x\r\n", DefaultMaxReplyLines+10))
	if _, err := ReadReply(NewReader(endless)); !errors.Is(err, ErrReplyTooLong) {
		t.Errorf("endless reply: err = %v, want ErrReplyTooLong", err)
	}
}

func TestReadReplySequence(t *testing.T) {
	r := NewReader(strings.NewReader("150 Opening\r\n226-Done\r\n 1 file\r\n226 Bye\r\n"))
	for _, want := range []int{150, 226} {
		got, err := ReadReply(r)
		if err != nil || got.Code != want {
			t.Fatalf("ReadReply = %v, %v; want code %d", got, err, want)
		}
	}
	if _, err := ReadReply(r); err != io.EOF {
		t.Fatalf("after last reply: %v, want io.EOF", err)
	}
}

func TestReplyRoundTrip(t *testing.T) {
	replies := []Reply{
		NewReply(220, "port21 ready"),
		Reply{211, []string{"Features:", " UTF8", "123", "211 sneaky", "End"}},
		NewReply(550, "no\r\nsuch\nfile"),
		NewReply(257, QuotePath("/a \"b\"\xff")+" is the current directory"),
		{Code: 200},
	}
	for _, r := range replies {
		wire := r.String()
		got, err := ReadReply(NewReader(strings.NewReader(wire)))
		if err != nil {
			t.Fatalf("ReadReply(%q): %v", wire, err)
		}
		if got.String() != wire {
			t.Errorf("round trip of %q gave %q", wire, got.String())
		}
	}
}

func TestQuotePath(t *testing.T) {
	tests := []struct{ path, quoted string }{
		{"/", `"/"`},
		{"/home/a b", `"/home/a b"`},
		{`/say "hi"`, `"/say ""hi"""`},
		{`"`, `""""`},
		{"", `""`},
	}
	for _, tt := range tests {
		if got := QuotePath(tt.path); got != tt.quoted {
			t.Errorf("QuotePath(%q) = %q, want %q", tt.path, got, tt.quoted)
		}
		path, rest, err := UnquotePath(tt.quoted + " created")
		if err != nil || path != tt.path || rest != " created" {
			t.Errorf("UnquotePath(%q) = %q, %q, %v", tt.quoted+" created", path, rest, err)
		}
	}
	for _, bad := range []string{"", "/tmp", `"/tmp`, `"a""`} {
		if _, _, err := UnquotePath(bad); !errors.Is(err, ErrBadQuotedPath) {
			t.Errorf("UnquotePath(%q) error = %v, want ErrBadQuotedPath", bad, err)
		}
	}
}

func TestCodeText(t *testing.T) {
	for _, code := range []int{110, 120, 125, 150, 200, 202, 211, 212, 213, 214, 215, 220, 221, 225, 226, 227, 228,
		229, 230, 232, 234, 235, 250, 257, 331, 332, 334, 335, 336, 350, 421, 425, 426, 430, 431, 434, 450, 451,
		452, 500, 501, 502, 503, 504, 521, 522, 530, 532, 533, 534, 535, 536, 537, 550, 551, 552, 553, 631, 632, 633} {
		if CodeText(code) == "" {
			t.Errorf("CodeText(%d) is empty", code)
		}
	}
	if CodeText(299) != "" {
		t.Errorf("CodeText(299) = %q, want empty", CodeText(299))
	}
}
