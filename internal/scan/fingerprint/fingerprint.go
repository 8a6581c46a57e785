// Package fingerprint names the FTP server product, and its version when the
// service gives it away, from what the service said before login: the
// greeting, and the replies to SYST, FEAT, HELP and a command it cannot know.
//
// Each product has a table of clues. A clue is a substring or pattern that
// one product's replies carry and others' do not; the banner is the strongest
// clue, but administrators often change it, so the wording of SYST, HELP and
// error replies lets a product be named, with less confidence, behind a
// custom banner. All input is what a remote service chose to send, so it is
// matched, never trusted: a product claimed in a banner is only as reliable
// as the confidence says.
package fingerprint

import (
	"cmp"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Product names, as they appear in findings and in the CVE dataset.
const (
	VsFTPd       = "vsftpd"
	ProFTPD      = "ProFTPD"
	PureFTPd     = "Pure-FTPd"
	FileZilla    = "FileZilla Server"
	MicrosoftFTP = "Microsoft FTP Service"
	ServU        = "Serv-U"
	CrushFTP     = "CrushFTP"
	WingFTP      = "Wing FTP Server"
	WuFTPd       = "wu-ftpd"
	GlFTPd       = "glFTPd"
	Port21       = "port21"
	Unknown      = ""
)

// Observation is what a service said before login. Each field holds the
// reply text, lines joined with "\n", without the reply codes of the first
// and last lines; empty when the command was not sent or not answered.
type Observation struct {
	Banner  string // the 220 greeting
	Syst    string // reply to SYST
	Feat    string // reply to FEAT
	Help    string // reply to HELP
	Unknown string // reply to a command no server implements
	User    string // reply to USER with a random name (never followed by PASS)
	// Codes holds the reply codes, keyed by the same names ("syst", "feat",
	// "help", "unknown", "user"), for clues that depend on them.
	Codes map[string]int
}

// Result is the product found, if any.
type Result struct {
	Product string
	Version string
	// Confidence is 0 to 100: 100 for a banner that names the product and
	// version in its own format, lower for clues from other replies, 0 when
	// nothing matched.
	Confidence int
	// Clues lists what matched, for the evidence of findings.
	Clues []string
	// BannerOnly is set when only the greeting named the product: no other
	// reply matched it. Anyone can set a greeting, so a version found this
	// way is a claim, and findings based on it say so.
	BannerOnly bool
	// VersionRange narrows the version when the service does not print
	// it, from wording and features that arrived or left in a known
	// release ("2.0.8 or later", "1.0.48 to 1.0.49"); empty when Version
	// is set or nothing narrows it.
	VersionRange string
}

// clue is one piece of evidence for a product.
type clue struct {
	field  string         // "banner", "syst", "feat", "help", "unknown", "user"
	re     *regexp.Regexp // must match; a capture group named "v" is the version
	weight int
	// since and until bound the versions whose replies carry the clue,
	// when it is known (empty: unbounded).
	since, until string
}

type rule struct {
	product string
	clues   []clue
}

func c(field string, pattern string, weight int) clue {
	return clue{field: field, re: regexp.MustCompile(pattern), weight: weight}
}

// since is a clue first seen in version v.
func since(v string, cl clue) clue { cl.since = v; return cl }

// until is a clue last seen in version v.
func until(v string, cl clue) clue { cl.until = v; return cl }

// describe is the clue as the evidence lists it.
func (cl clue) describe() string {
	d := cl.field + " matches " + cl.re.String()
	switch {
	case cl.since != "" && cl.until != "":
		d += " (versions " + cl.since + " to " + cl.until + ")"
	case cl.since != "":
		d += " (version >= " + cl.since + ")"
	case cl.until != "":
		d += " (version <= " + cl.until + ")"
	}
	return d
}

// rules are checked in order; ties go to the first product listed.
var rules = []rule{
	{Port21, []clue{
		c("banner", `(?i)^port21 ready\b`, 90),
		c("help", `(?m)^Help OK\.$`, 10),
		c("unknown", `^Unknown command "`, 20),
	}},
	{VsFTPd, []clue{
		c("banner", `\(vsFTPd (?P<v>\d+\.\d+\.\d+[a-z0-9]*)\)`, 100),
		c("banner", `(?i)\bvsftpd\b`, 60),
		c("help", `(?m)^Help OK\.$`, 25),
		c("unknown", `^Unknown command\.$`, 25),
		c("user", `^Please specify the password\.$`, 30),
		c("user", `^Non-anonymous sessions must use encryption\.$`, 40),
		c("syst", `^UNIX Type: L8$`, 5),
		// vsftpd 2.0.8 and later answer every command but USER, PASS,
		// FEAT, AUTH and QUIT this way before login (nmap -sV's rule for
		// "vsftpd 2.0.8 or later"); ProFTPD's wording has no full stop.
		since("2.0.8", c("help", `^Please login with USER and PASS\.$`, 30)),
		c("syst", `^Please login with USER and PASS\.$`, 10),
		// vsftpd's fixed FEAT list, in its alphabetical order.
		c("feat", `^Features:\n(?: AUTH SSL\n AUTH TLS\n)? EPRT\n EPSV\n MDTM\n PASV\n(?: PBSZ\n PROT\n)? REST STREAM\n SIZE\n TVFS\n(?: UTF8\n)?End$`, 30),
	}},
	{ProFTPD, []clue{
		c("banner", `ProFTPD (?P<v>\d+\.\d+\.\d+[a-z0-9]*) Server`, 100),
		c("banner", `\bProFTPD\b`, 70),
		c("unknown", ` not understood$`, 30),
		c("help", `(?m)^The following commands are recognized \(\* =>'s unimplemented\):`, 50),
		c("help", `(?m)^Direct comments to `, 20),
		c("user", `^Password required for `, 30),
		c("feat", `(?m)^ ?LANG en-US`, 15),
		c("feat", `(?m)^ ?MFF modify;UNIX\.group`, 25),
		c("syst", `^UNIX Type: L8$`, 5),
		// mod_tls with TLSRequired on, before AUTH TLS.
		c("user", `^SSL/TLS required on the control channel$`, 40),
		c("help", `^SSL/TLS required on the control channel$`, 15),
		// FEAT entries no other server here lists.
		c("feat", `(?m)^ ?CSID$`, 15),
		c("feat", `(?m)^ ?SSCN$`, 10),
		c("feat", `(?m)^ ?RANG STREAM$`, 10),
	}},
	{PureFTPd, []clue{
		c("banner", `Pure-FTPd`, 90),
		c("banner", `(?m)^You are user number \d+ of \d+ allowed\.`, 40),
		c("banner", `(?m)^Local time is now \d\d:\d\d\. Server port: \d+\.`, 40),
		c("help", `Pure-FTPd - http`, 60),
		c("unknown", `^Unknown command$`, 15),
		c("user", `^User \S+ OK\. Password required$`, 40),
		since("1.0.48", c("feat", `(?m)^ ?PRET$`, 10)),
		until("1.0.49", c("feat", `(?m)^ ?SPSV$`, 5)),
	}},
	{FileZilla, []clue{
		c("banner", `FileZilla Server (?:version )?(?P<v>\d+\.\d+\.\d+[a-z0-9]*)`, 100),
		c("banner", `(?i)filezilla`, 70),
		c("syst", `UNIX emulated by FileZilla`, 60),
	}},
	{MicrosoftFTP, []clue{
		c("banner", `^Microsoft FTP Service`, 90),
		c("syst", `^Windows_NT`, 30),
		c("unknown", `^'.*': command not (?:understood|implemented)`, 15),
		// IIS 7 and later: RFC 4217's AUTH and PROT values in IIS's own
		// spelling, which no other server here uses.
		c("feat", `^Extended features supported:`, 10),
		c("feat", `(?m)^ ?AUTH TLS;TLS-C;SSL;TLS-P;$`, 50),
		c("feat", `(?m)^ ?PROT C;P;$`, 15),
		// IIS 6: the verb as the heading, "END" in capitals.
		c("feat", `^FEAT\n(?:.*\n)*END$`, 30),
	}},
	{ServU, []clue{
		c("banner", `Serv-U FTP Server v(?P<v>\d+(?:\.\d+)+)`, 100),
		c("banner", `Serv-U`, 80),
	}},
	{CrushFTP, []clue{
		c("banner", `CrushFTP(?:\d+)? Server`, 90),
		c("banner", `(?i)crushftp`, 70),
	}},
	{WingFTP, []clue{
		c("banner", `Wing FTP Server (?:v)?(?P<v>\d+\.\d+\.\d+)`, 100),
		c("banner", `(?i)wing ?ftp`, 80),
	}},
	{WuFTPd, []clue{
		c("banner", `\(Version wu-(?P<v>\d+\.\d+\.\d+)`, 100),
		c("banner", `\bwu-\d`, 70),
	}},
	{GlFTPd, []clue{
		c("banner", `glFTPd (?P<v>\d+\.\d+[a-z0-9]*)`, 100),
		c("banner", `(?i)glftpd`, 70),
	}},
}

// Identify returns the most likely product for o. When two products score
// the same, the one listed first in the rules wins, so results are stable.
func Identify(o Observation) Result {
	fields := map[string]string{
		"banner": o.Banner, "syst": o.Syst, "feat": o.Feat,
		"help": o.Help, "unknown": o.Unknown, "user": o.User,
	}
	best := Result{}
	// other is, per product, the score of clues outside the banner: what
	// the service said in its own words, which a custom greeting cannot
	// fake as easily.
	other := map[string]int{}
	for _, r := range rules {
		res := Result{Product: r.product}
		for _, cl := range r.clues {
			text := fields[cl.field]
			if text == "" {
				continue
			}
			m := cl.re.FindStringSubmatch(text)
			if m == nil {
				continue
			}
			res.Confidence += cl.weight
			if cl.field != "banner" {
				other[r.product] += cl.weight
			}
			res.Clues = append(res.Clues, cl.describe())
			if i := cl.re.SubexpIndex("v"); i > 0 && res.Version == "" && m[i] != "" {
				res.Version = m[i]
			}
		}
		res.Confidence = min(res.Confidence, 100)
		if res.Confidence > best.Confidence {
			best = res
		}
	}
	if best.Confidence < minConfidence {
		return Result{}
	}
	// A greeting that claims one product while the other replies match
	// another well (a fake or borrowed banner) is not believed: the
	// replies win, without the banner's version.
	for _, r := range rules {
		if r.product != best.Product && other[r.product] >= minContradiction && other[r.product] > other[best.Product]+minContradiction/2 {
			claimed := best.Product
			best = Result{Product: r.product, Confidence: min(other[r.product], 100)}
			best.Clues = append(best.Clues, "the banner claims "+claimed+", but the other replies match "+r.product)
			for _, cl := range r.clues {
				if cl.field != "banner" && fields[cl.field] != "" && cl.re.MatchString(fields[cl.field]) {
					best.Clues = append(best.Clues, cl.describe())
				}
			}
			break
		}
	}
	best.BannerOnly = other[best.Product] == 0
	if best.Version == "" {
		best.VersionRange = versionRange(best.Product, fields)
	}
	sort.Strings(best.Clues)
	return best
}

// versionRange intersects the version bounds of product's clues that
// matched: the latest "since" and the earliest "until".
func versionRange(product string, fields map[string]string) string {
	var lo, hi string
	for _, r := range rules {
		if r.product != product {
			continue
		}
		for _, cl := range r.clues {
			if (cl.since == "" && cl.until == "") || fields[cl.field] == "" || !cl.re.MatchString(fields[cl.field]) {
				continue
			}
			if cl.since != "" && (lo == "" || compareVersions(cl.since, lo) > 0) {
				lo = cl.since
			}
			if cl.until != "" && (hi == "" || compareVersions(cl.until, hi) < 0) {
				hi = cl.until
			}
		}
	}
	switch {
	case lo != "" && hi != "":
		if compareVersions(lo, hi) > 0 {
			return "" // clues that disagree narrow nothing
		}
		return lo + " to " + hi
	case lo != "":
		return lo + " or later"
	case hi != "":
		return hi + " or earlier"
	}
	return ""
}

// compareVersions orders dotted numeric versions ("1.0.48" < "1.0.49" <
// "2.0.8"); it is only used on the versions written in the rules.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return cmp.Compare(x, y)
		}
	}
	return 0
}

// minConfidence is the least score that names a product: weak clues alone
// (SYST "UNIX Type: L8" is said by half the servers in the world) do not.
const minConfidence = 25

// minContradiction is the score of non-banner clues for another product
// that overrules the banner's claim.
const minContradiction = 50

// VersionInBanner reports whether the banner itself discloses a version
// number, which is what the version-disclosed finding is about: a version
// learned from FEAT or HELP wording is not given away on purpose.
func VersionInBanner(r Result, banner string) bool {
	return r.Version != "" && strings.Contains(banner, r.Version)
}
