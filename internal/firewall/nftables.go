package firewall

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// nftTable is the one table port21 owns. Owning a whole table makes apply
// and rollback atomic and leaves every other table alone.
const nftTable = "inet port21"

// nftPorts is the anonymous set of every FTP port of the policy.
func nftPorts(p Policy) string {
	var s []string
	for _, c := range p.ControlPorts() {
		s = append(s, strconv.Itoa(int(c)))
	}
	if !p.Passive.IsZero() {
		s = append(s, fmt.Sprintf("%d-%d", p.Passive.Low, p.Passive.High))
	}
	return "{ " + strings.Join(s, ", ") + " }"
}

func nftElements(ps []netip.Prefix, p Policy) string {
	var s []string
	for _, a := range ps {
		e := a.String()
		if p.For > 0 {
			e += " timeout " + formatDuration(p.For)
		}
		s = append(s, e)
	}
	return "{ " + strings.Join(s, ", ") + " }"
}

// nftScript is the `nft -f` input that replaces table inet port21 in one
// transaction: declaring the table first makes the delete valid when the
// table does not exist yet.
func nftScript(p Policy) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("table %s", nftTable)
	w("delete table %s", nftTable)
	w("table %s {", nftTable)
	if !p.Block {
		w("\t# Plain FTP on port 21: assign the FTP conntrack helper explicitly (Linux >= 4.7")
		w("\t# no longer does it by itself). It cannot read TLS, so FTPS relies on the")
		w("\t# passive range opened below instead.")
		w("\tct helper ftp-standard {")
		w("\t\ttype \"ftp\" protocol tcp")
		w("\t\tl3proto inet")
		w("\t}")
		w("")
		flags := "interval"
		if p.For > 0 {
			flags = "interval, timeout"
		}
		for _, s := range []struct {
			name, typ string
			nets      []netip.Prefix
		}{{"allow4", "ipv4_addr", p.allow4()}, {"allow6", "ipv6_addr", p.allow6()}} {
			w("\tset %s {", s.name)
			w("\t\ttype %s", s.typ)
			w("\t\tflags %s", flags)
			if len(s.nets) > 0 {
				w("\t\telements = %s", nftElements(s.nets, p))
			}
			w("\t}")
			w("")
		}
	}
	ports := nftPorts(p)
	w("\tchain input {")
	w("\t\ttype filter hook input priority filter - 10; policy accept;")
	w("\t\tct state established,related accept")
	w("\t\tiif \"lo\" accept")
	if !p.Block {
		w("\t\ttcp dport 21 ct helper set \"ftp-standard\"")
		w("\t\ttcp dport %s ip saddr @allow4 accept", ports)
		w("\t\ttcp dport %s ip6 saddr @allow6 accept", ports)
	}
	w("\t\ttcp dport %s counter drop", ports)
	w("\t}")
	w("}")
	return b.String()
}

func planNFT(p Policy) string {
	var b strings.Builder
	b.WriteString("# port21 firewall plan: nftables, IPv4 and IPv6 (table " + nftTable + ")\n")
	b.WriteString("# " + p.describe() + "\n")
	b.WriteString("# Load atomically with `nft -f FILE` (or `port21 firewall apply`, which can roll back).\n")
	b.WriteString("# Remove with `nft delete table " + nftTable + "`.\n")
	b.WriteString("# This table only drops: a drop in another table (firewalld, a distribution\n")
	b.WriteString("# default) still applies to the allowed networks.\n")
	b.WriteString(dockerNote)
	if p.Passive.IsZero() && !p.Block {
		b.WriteString(noPassiveWarning)
	}
	b.WriteString(nftScript(p))
	return b.String()
}

// dockerNote is printed with the Linux plans: published container ports
// never reach INPUT.
const dockerNote = "# Ports published by Docker are forwarded, not delivered here: they bypass input rules\n" +
	"# (filter them in Docker's DOCKER-USER chain).\n"

const noPassiveWarning = "# WARNING: no --passive-ports: FTPS passive data connections will be dropped\n" +
	"# (the FTP helper cannot read them through TLS). Give the server's passive range.\n"
