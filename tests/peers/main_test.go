package peers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/port21/port21/internal/finding"
)

// binDir holds the port21 binary built for this test run.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "port21-peers-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildOnce builds cmd/port21 the first time a test needs it.
var buildOnce = sync.OnceValues(func() (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("no go tool on PATH to build port21 with")
	}
	bin := filepath.Join(binDir, "port21")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, "github.com/port21/port21/cmd/port21").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/port21: %v\n%s", err, out)
	}
	return bin, nil
})

// port21 returns the built binary, failing the test if it does not build.
func port21(t testing.TB) string {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// requireSubcommand skips the test until port21 has the subcommand with
// every flag the test uses (they are being written alongside these tests).
func requireSubcommand(t testing.TB, sub string, flags ...string) string {
	t.Helper()
	bin := port21(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, sub, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "port21 "+sub) {
		t.Skipf("port21 %s not built yet (port21 %s --help: %v)", sub, sub, err)
	}
	for _, f := range flags {
		if !strings.Contains(string(out), f) {
			t.Skipf("port21 %s has no %s flag yet", sub, f)
		}
	}
	return bin
}

// jsonReport is the part of internal/report's JSON document the tests
// read. It is spelled out here, not imported, so that these tests check
// the documented shape of the output and not the Go types behind it.
type jsonReport struct {
	Tool    string       `json:"tool"`
	Results []jsonResult `json:"results"`
}

type jsonResult struct {
	Target   jsonTarget    `json:"target"`
	Service  *jsonService  `json:"service"`
	Findings []jsonFinding `json:"findings"`
	Error    string        `json:"error"`
	Status   string        `json:"status"`
}

type jsonTarget struct {
	Host    string `json:"host"`
	Address string `json:"address"`
	Port    int    `json:"port"`
	File    string `json:"file"`
	Line    int    `json:"line"`
}

type jsonService struct {
	Product string `json:"product"`
	Version string `json:"version"`
	// VersionRange narrows a version the service hides.
	VersionRange string `json:"version_range"`
	Banner       string `json:"banner"`
	TLS          string `json:"tls"`
	// TLSSuites is filled by --tls-ciphers.
	TLSSuites map[string][]string `json:"tls_suites"`
	TLSGroups []string            `json:"tls_groups"`
	// Certificate describes the leaf the service presented.
	Certificate *struct {
		KeyType            string `json:"key_type"`
		KeyBits            int    `json:"key_bits"`
		SignatureAlgorithm string `json:"signature_algorithm"`
		Chain              int    `json:"chain"`
	} `json:"certificate"`
}

type jsonFinding struct {
	ID       string     `json:"id"`
	Severity string     `json:"severity"`
	Title    string     `json:"title"`
	Basis    string     `json:"basis"`
	Target   jsonTarget `json:"target"`
	Evidence []struct {
		Sent     string `json:"sent"`
		Received string `json:"received"`
		Note     string `json:"note"`
	} `json:"evidence"`
}

// runJSON runs port21 with args, bounded by limit, and decodes its JSON
// report from standard output. Exit status 2 (--fail-on) is not an error.
func runJSON(t testing.TB, bin string, limit time.Duration, args ...string) jsonReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 2) {
		t.Fatalf("port21 %s: %v\nstderr: %s\nstdout: %s", strings.Join(args, " "), err, stderr.Bytes(), stdout.Bytes())
	}
	var rep jsonReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("port21 %s: decoding the JSON report: %v\n%s", strings.Join(args, " "), err, stdout.Bytes())
	}
	return rep
}

// ids returns the sorted, distinct finding ids of results.
// sameMeaning checks that findings with an id both scan and local report
// carry the one severity and title the catalog (finding.Lookup) gives it.
func sameMeaning(t *testing.T, results ...jsonResult) {
	t.Helper()
	for _, r := range results {
		for _, f := range r.Findings {
			if m, ok := finding.Lookup(f.ID); ok && (f.Title != m.Title || f.Severity != m.Severity.String()) {
				t.Errorf("%s: %q %s, want %q %s as everywhere", f.ID, f.Title, f.Severity, m.Title, m.Severity)
			}
		}
	}
}

func ids(results ...jsonResult) []string {
	var out []string
	for _, r := range results {
		for _, f := range r.Findings {
			out = append(out, f.ID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
