package ftp

import (
	"testing"
	"time"
)

func TestFactsFormat(t *testing.T) {
	mod := time.Date(2026, 11, 24, 14, 35, 0, 0, time.UTC)
	file := Facts{Type: "file", Size: 123, HasSize: true, Modify: mod, Perm: "adfrw", Unique: "803g1a", Name: "name"}
	tests := []struct {
		name    string
		f       Facts
		enabled FactSet
		want    string
	}{
		{"all facts", file, DefaultFacts, "type=file;size=123;modify=20261124143500;perm=adfrw;unique=803g1a; name"},
		{"selection", file, FactType | FactSize, "type=file;size=123; name"},
		{"order is fixed", file, FactUnique | FactType, "type=file;unique=803g1a; name"},
		{"no facts", file, 0, " name"},
		{"zero size shown when known", Facts{Type: "file", HasSize: true, Name: "empty"}, DefaultFacts, "type=file;size=0; empty"},
		{"missing values left out", Facts{Type: "dir", Name: "d"}, DefaultFacts, "type=dir; d"},
		{"cdir with path", Facts{Type: "cdir", Perm: "el", Name: "/pub/a b"}, DefaultFacts, "type=cdir;perm=el; /pub/a b"},
		{"modify in UTC", Facts{Modify: mod.In(time.FixedZone("X", -5*3600)), Name: "f"}, FactModify, "modify=20261124143500; f"},
		{"bad values left out", Facts{Type: "fi le", Perm: "r;w", Unique: "a\nb", Name: "f"}, DefaultFacts, " f"},
		{"line breaks in name", Facts{Type: "file", Name: "a\r\nb"}, DefaultFacts, "type=file; a??b"},
		{"name with leading space and semicolons", Facts{Type: "file", Name: " ;x=y;"}, DefaultFacts, "type=file;  ;x=y;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Format(tt.enabled); got != tt.want {
				t.Errorf("Format = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseFactList(t *testing.T) {
	tests := []struct {
		s    string
		set  FactSet
		echo string
	}{
		{"type;size;", FactType | FactSize, "type;size;"},
		{"size;type;", FactType | FactSize, "type;size;"},
		{"Type;SIZE;Modify;", FactType | FactSize | FactModify, "type;size;modify;"},
		{"type;size", FactType | FactSize, "type;size;"},
		{"type;media-type;charset;unix.mode;", FactType, "type;"},
		{"unique;;perm;", FactPerm | FactUnique, "perm;unique;"},
		{"type*;size;", FactSize, "size;"},
		{" type;", 0, ""},
		{"", 0, ""},
		{"type;size;modify;perm;unique;", AllFacts, "type;size;modify;perm;unique;"},
	}
	for _, tt := range tests {
		set, echo := ParseFactList(tt.s)
		if set != tt.set || echo != tt.echo {
			t.Errorf("ParseFactList(%q) = %05b, %q; want %05b, %q", tt.s, set, echo, tt.set, tt.echo)
		}
	}
}

func TestFactSetFeature(t *testing.T) {
	tests := []struct {
		s    FactSet
		want string
	}{
		{DefaultFacts, "MLST type*;size*;modify*;perm*;unique*;"},
		{FactType | FactModify, "MLST type*;size;modify*;perm;unique;"},
		{0, "MLST type;size;modify;perm;unique;"},
	}
	for _, tt := range tests {
		if got := tt.s.Feature(); got != tt.want {
			t.Errorf("%05b.Feature() = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestPermFacts(t *testing.T) {
	tests := []struct {
		dir, read, write bool
		want             string
	}{
		{false, true, true, "adfrw"},
		{false, true, false, "r"},
		{false, false, true, "adfw"},
		{false, false, false, ""},
		{true, true, true, "cdeflmp"},
		{true, true, false, "el"},
		{true, false, true, "cdfmp"},
		{true, false, false, ""},
	}
	for _, tt := range tests {
		if got := PermFacts(tt.dir, tt.read, tt.write); got != tt.want {
			t.Errorf("PermFacts(%v, %v, %v) = %q, want %q", tt.dir, tt.read, tt.write, got, tt.want)
		}
	}
}
