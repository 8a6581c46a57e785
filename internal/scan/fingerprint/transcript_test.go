package fingerprint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// transcript reads a recorded session: "> " lines are what the client sent,
// "< " lines what came back, "# product: " the product it must be named. The
// reply to each command becomes the Observation field the scanner fills.
func transcript(t *testing.T, path string) (Observation, string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	o := Observation{Codes: map[string]int{}}
	var product, verb string
	var reply []string
	flush := func() {
		if len(reply) == 0 {
			return
		}
		code := reply[0][:3]
		lines := append([]string(nil), reply...)
		lines[0] = lines[0][4:]
		if last := len(lines) - 1; last > 0 && strings.HasPrefix(lines[last], code+" ") {
			lines[last] = lines[last][4:]
		}
		text := strings.Join(lines, "\n")
		field := map[string]*string{"": &o.Banner, "FEAT": &o.Feat, "SYST": &o.Syst, "HELP": &o.Help, "XPRB": &o.Unknown, "USER": &o.User}[verb]
		if field == nil {
			t.Fatalf("%s: no field for %q", path, verb)
		}
		*field = text
		reply = nil
	}
	for line := range strings.SplitSeq(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "# product: "):
			product = strings.TrimPrefix(line, "# product: ")
		case strings.HasPrefix(line, "> "):
			flush()
			verb, _, _ = strings.Cut(strings.TrimPrefix(line, "> "), " ")
		case strings.HasPrefix(line, "< "):
			if len(line) < 6 {
				t.Fatalf("%s: short reply line %q", path, line)
			}
			reply = append(reply, strings.TrimPrefix(line, "< "))
		}
	}
	flush()
	return o, product
}

// TestTranscripts names the product of each recorded session in
// testdata/transcripts, with a clue besides the banner.
func TestTranscripts(t *testing.T) {
	paths, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			o, want := transcript(t, p)
			r := Identify(o)
			if r.Product != want || r.BannerOnly || r.Confidence < 45 {
				t.Errorf("got %+v, want %q named by more than the banner", r, want)
			}
		})
	}
}
