package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// loadSample reads the fixture every format test renders: findings of
// every severity, network targets (IPv4 with a host name, IPv6), a
// configuration file, a clean target and one whose audit failed, in an
// order that Write must sort.
func loadSample(t testing.TB) Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("testdata/sample.json: %v", err)
	}
	return r
}

// golden compares got with testdata/golden/name, or rewrites the file when
// the test runs with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking the change):\n%s", name, firstDiff(want, got))
	}
}

// firstDiff shows the first line where two outputs differ.
func firstDiff(want, got []byte) string {
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return "line " + strconv.Itoa(i+1) + ":\nwant: " + string(w) + "\ngot:  " + string(g)
		}
	}
	return "(no line differs)"
}

func TestGolden(t *testing.T) {
	r := loadSample(t)
	for _, tc := range []struct {
		file   string
		format Format
		opts   Options
	}{
		{"sample.txt", Table, Options{}},
		{"sample.color.txt", Table, Options{Color: true}},
		{"sample.json", JSON, Options{}},
		{"sample.jsonl", JSONL, Options{}},
		{"sample.sarif", SARIF, Options{}},
		{"sample.csv", CSV, Options{}},
		{"sample.html", HTML, Options{}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, tc.format, r, tc.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file, b.Bytes())
		})
	}
}

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}
