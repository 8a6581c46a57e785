package report

import (
	"bytes"
	"context"
	"html"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// checkSelfContained fails when a page could make the browser fetch or run
// anything: scripts, event handlers, remote styles, images or fonts. The
// page comes from one template, so its tags are regular enough to check
// with patterns.
func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	for _, bad := range inertPatterns {
		if m := bad.re.FindString(page); m != "" {
			t.Errorf("page has %s: %q", bad.what, m)
		}
	}
	for _, m := range anchorTag.FindAllString(page, -1) {
		href := hrefAttr.FindStringSubmatch(m)
		if href == nil || strings.HasPrefix(href[1], "#") {
			continue
		}
		if !webURL(html.UnescapeString(href[1])) {
			t.Errorf("link to %q", href[1])
		}
		if !strings.Contains(m, `rel="noreferrer`) {
			t.Errorf("link without rel=noreferrer: %s", m)
		}
	}
	if !strings.Contains(page, `http-equiv="Content-Security-Policy" content="default-src 'none';`) {
		t.Error("page has no restrictive Content-Security-Policy")
	}
}

var (
	inertPatterns = []struct {
		what string
		re   *regexp.Regexp
	}{
		{"an element that loads or runs something", regexp.MustCompile(`(?i)<(script|iframe|object|embed|img|video|audio|source|form|base|svg|math)[\s>/]`)},
		{"an event handler", regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)},
		{"an attribute that fetches", regexp.MustCompile(`(?i)<[^>]*\s(src|srcset|action|formaction|background|poster)\s*=`)},
		{"an inline style attribute", regexp.MustCompile(`(?i)<[^>]*\sstyle\s*=`)},
		{"CSS that fetches", regexp.MustCompile(`(?i)url\(|@import|expression\(`)},
		{"a stylesheet or resource link", regexp.MustCompile(`(?i)<link\b[^>]*href="(?:[^d]|d[^a])`)},
	}
	anchorTag = regexp.MustCompile(`<a\b[^>]*>`)
	hrefAttr  = regexp.MustCompile(`href="([^"]*)"`)
)

func TestHTMLSample(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, HTML, loadSample(t), Options{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	checkSelfContained(t, page)
	for _, want := range []string{
		"<title>port21 scan report</title>",
		`<span class="n">2</span><span class="l">Critical</span>`,
		"ftp.example.net",
		"CVE-2015-3306",
		"<pre>anonymous_enable=NO</pre>",
		"$ port21 firewall plan --block",
		`<a href="https://nvd.nist.gov/vuln/detail/CVE-2011-2523" rel="noreferrer noopener"`,
		"<li>javascript:alert(1)</li>",
		"&lt;script&gt;alert(&#39;banner&#39;)&lt;/script&gt;",
		"Audit incomplete:</b> status timeout: dial tcp 203.0.113.7:2121: i/o timeout",
		"No findings.",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestHTMLHostile(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, HTML, hostileReport(), Options{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	checkSelfContained(t, page)
	for _, bad := range []string{"<script>", "<img", "\x1b", "\u202e", "\x00", `<a href="javascript`, `<a href="data`} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	for _, want := range []string{`\x1b[2J`, `\u202e`, "&lt;script&gt;alert(1)&lt;/script&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("page does not show %q", want)
		}
	}
}

// TestHTMLScreenshot renders the sample page in headless Chromium and checks
// that the screenshot shows something: a page that failed to parse or
// whose styles broke renders blank or nearly so.
func TestHTMLScreenshot(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("PORT21_REQUIRE_CLIENTS") == "1" {
			t.Fatal("chromium is not installed (Debian package chromium)")
		}
		t.Skip("chromium is not installed (Debian package chromium); skipping the screenshot test")
	}
	if testing.Short() {
		t.Skip("screenshot test skipped in -short mode")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := Write(&b, HTML, loadSample(t), Options{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report.png")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		"--screenshot="+shot, "--window-size=1280,1600",
		"file://"+page)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, out)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 1600 {
		t.Errorf("screenshot is %dx%d, want 1280x1600", b.Dx(), b.Dy())
	}
	colors, dark := imageStats(img)
	// The page has a dark header, white cards, coloured tiles and text in
	// several colours: hundreds of distinct colours once anti-aliased.
	if colors < 50 {
		t.Errorf("screenshot has only %d colours: the page did not render", colors)
	}
	if dark < 0.05 || dark > 0.6 {
		t.Errorf("%.0f%% of the screenshot is dark; want the header and text, not a blank or black page", dark*100)
	}
	if os.Getenv("PORT21_KEEP_SCREENSHOT") != "" {
		_ = os.WriteFile(os.Getenv("PORT21_KEEP_SCREENSHOT"), mustRead(t, shot), 0o644)
	}
}

// imageStats counts distinct colours (sampling every other pixel) and the
// share of dark pixels.
func imageStats(img image.Image) (colors int, dark float64) {
	seen := map[uint32]bool{}
	var n, d int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			if (r+g+bl)/3 < 0x4000 {
				d++
			}
			n++
		}
	}
	return len(seen), float64(d) / float64(n)
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
