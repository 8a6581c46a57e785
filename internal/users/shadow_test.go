package users

import (
	"errors"
	"strings"
	"testing"
)

func TestParseShadow(t *testing.T) {
	const sha = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"
	const bcrypt = "$2b$05$fh3tJTctLL4XEs4Wk.XRpO6jA6YNG2xDnej/GOQBr3eJC/0cyxtJq"
	in := strings.Join([]string{
		"# a comment",
		"root:*:19000:0:99999:7:::",
		"daemon:!:19000::::::",
		"locked:!" + sha + ":19000:0:99999:7:::",
		"nopass::19000:0:99999:7:::",
		"bob:" + sha + ":19000:0:99999:7:::",
		"",
		"alice:" + bcrypt + ":1000:1000::/srv/ftp/alice/./::::::::::::\r",
		"old:$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0:19000::::::",
		"bad name:" + sha,
		"nocolon",
		"carol:" + sha,
	}, "\n")
	entries, err := ParseShadow(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line int
		name string
		ok   bool
		is   error
	}{
		{2, "root", false, ErrBadHash},
		{3, "daemon", false, ErrBadHash},
		{4, "locked", false, ErrBadHash},
		{5, "nopass", false, ErrBadHash},
		{6, "bob", true, nil},
		{8, "alice", true, nil},
		{9, "old", false, ErrBadHash},
		{10, "bad name", false, ErrBadName},
		{11, "nocolon", false, ErrBadHash},
		{12, "carol", true, nil},
	}
	if len(entries) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(entries), len(want), entries)
	}
	for i, w := range want {
		e := entries[i]
		if e.Line != w.line || e.Name != w.name || (e.Err == nil) != w.ok || (w.is != nil && !errors.Is(e.Err, w.is)) {
			t.Errorf("entry %d = line %d %q err %v; want line %d %q ok=%v (%v)", i, e.Line, e.Name, e.Err, w.line, w.name, w.ok, w.is)
		}
	}
	if entries[4].Hash != sha || entries[5].Hash != bcrypt {
		t.Errorf("hashes not extracted: %q, %q", entries[4].Hash, entries[5].Hash)
	}

	_, err = ParseShadow(strings.NewReader("x:" + strings.Repeat("a", maxShadowLine+1)))
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("over-long line: error = %v", err)
	}
}
