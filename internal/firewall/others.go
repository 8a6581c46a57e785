package firewall

import (
	"fmt"
	"strconv"
	"strings"
)

// Plans for the backends port21 writes but does not apply itself: ufw,
// firewalld, Windows and pf. Their rules are printed for an administrator
// to review and run.

func planUFW(p Policy) (string, error) {
	if p.For > 0 {
		return "", fmt.Errorf("%w: ufw rules cannot expire by themselves, and an allow left behind would survive a reboot; use --confirm, or firewalld/nftables/iptables for --for", ErrUnsupported)
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# port21 firewall plan: ufw (IPv4 and IPv6; ufw applies an address-less rule to both)")
	w("# %s", p.describe())
	if p.Passive.IsZero() && !p.Block {
		b.WriteString(noPassiveWarning)
	}
	if !p.Block {
		w("#")
		w("# Plain FTP needs the conntrack helper assigned explicitly (Linux >= 4.7). Add this")
		w("# table at the end of /etc/ufw/before.rules and /etc/ufw/before6.rules, then `ufw reload`:")
		w("#   *raw")
		w("#   :PREROUTING ACCEPT [0:0]")
		w("#   -A PREROUTING -p tcp --dport 21 -j CT --helper ftp")
		w("#   COMMIT")
		w("# (FTPS does not use the helper: the passive range below is opened explicitly.)")
	}
	w("")
	w("# ufw keeps one rule per match: first delete rules with the same source, port and")
	w("# protocol as these (`ufw allow 21/tcp` blocks `ufw deny 21/tcp`). port21 firewall apply")
	w("# does that itself, and puts them back on rollback.")
	w("# ufw matches the first rule that fits, and prepend puts each rule on top of the list:")
	w("# the denies go in first, so that the allows end up above them and above older rules.")
	rules := ufwRules(p)
	for i := len(rules) - 1; i >= 0; i-- {
		w("%s", rules[i].command("prepend"))
	}
	return b.String(), nil
}

func planFirewalld(p Policy) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# port21 firewall plan: firewalld (default zone; IPv4 and IPv6 rich rules)")
	w("# %s", p.describe())
	if p.Passive.IsZero() && !p.Block {
		b.WriteString(noPassiveWarning)
	}
	allows, drops := firewalldRules(p)
	w("")
	w("# Stop opening the ports to everyone (errors for entries that are absent are harmless):")
	for _, e := range firewalldOpeners(p) {
		w("firewall-cmd --permanent --remove-%s", e)
	}
	w("")
	w("# Everyone else: dropped (established sessions are kept by firewalld). Priority -1.")
	for _, r := range drops {
		w("firewall-cmd --permanent --add-rich-rule='%s'", r)
	}
	if len(allows) > 0 {
		w("")
		w("# The allowed networks, at priority -2, before the drops. The ftp service carries the FTP")
		w("# conntrack helper for plain FTP; FTPS gets the passive range explicitly.")
	}
	if p.For > 0 {
		w("# Runtime only, after the reload, and expiring after %s (firewalld --timeout): a reboot", formatDuration(p.For))
		w("# closes them too.")
		w("firewall-cmd --reload")
		for _, r := range allows {
			w("firewall-cmd --add-rich-rule='%s' --timeout=%ds", r, int64(p.For.Seconds()))
		}
		return b.String()
	}
	for _, r := range allows {
		w("firewall-cmd --permanent --add-rich-rule='%s'", r)
	}
	w("firewall-cmd --reload")
	return b.String()
}

func planWindows(p Policy) (string, error) {
	if p.For > 0 {
		return "", fmt.Errorf("%w: Windows firewall rules cannot expire by themselves; schedule Remove-NetFirewallRule -Group port21 instead", ErrUnsupported)
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# port21 firewall plan: Windows Defender Firewall (PowerShell, as Administrator; IPv4 and IPv6)")
	w("# %s", p.describe())
	if p.Passive.IsZero() && !p.Block {
		b.WriteString(noPassiveWarning)
	}
	var ports []string
	for _, c := range p.ControlPorts() {
		ports = append(ports, strconv.Itoa(int(c)))
	}
	if !p.Passive.IsZero() {
		ports = append(ports, fmt.Sprintf("%d-%d", p.Passive.Low, p.Passive.High))
	}
	portList := strings.Join(ports, ",")
	w("")
	w("# Replace earlier port21 rules.")
	w("Remove-NetFirewallRule -Group 'port21' -ErrorAction SilentlyContinue")
	if p.Block {
		w("")
		w("# A block rule wins over every allow rule in Windows Defender Firewall.")
		w("New-NetFirewallRule -DisplayName 'port21: block FTP' -Group 'port21' -Direction Inbound -Protocol TCP -LocalPort %s -Action Block -Profile Any", portList)
		return b.String(), nil
	}
	w("")
	w("# Windows blocks inbound by default, but a block rule would override the allow below, so")
	w("# instead disable the other rules that open these ports to everyone (IIS adds some):")
	w("Get-NetFirewallPortFilter -Protocol TCP | Where-Object { $_.LocalPort -in @(%s) } | Get-NetFirewallRule |", quoteList(ports))
	w("    Where-Object { $_.Direction -eq 'Inbound' -and $_.Action -eq 'Allow' -and $_.Group -ne 'port21' } | Disable-NetFirewallRule")
	w("")
	w("# Stateful FTP is Windows' FTP helper, for plain FTP; FTPS uses the passive range opened here.")
	w("Set-NetFirewallSetting -EnableStatefulFtp True")
	var nets []string
	for _, a := range p.Allow {
		nets = append(nets, a.String())
	}
	w("New-NetFirewallRule -DisplayName 'port21: allow FTP' -Group 'port21' -Direction Inbound -Protocol TCP -LocalPort %s -RemoteAddress %s -Action Allow -Profile Any", portList, strings.Join(nets, ","))
	return b.String(), nil
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = "'" + v + "'"
	}
	return strings.Join(q, ",")
}

func planPF(p Policy) (string, error) {
	if p.For > 0 {
		return "", fmt.Errorf("%w: pf table entries cannot expire one by one; schedule `pfctl -t port21_allow -T flush` instead", ErrUnsupported)
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# port21 firewall plan: pf.conf fragment (IPv4 and IPv6)")
	w("# %s", p.describe())
	if p.Passive.IsZero() && !p.Block {
		b.WriteString(noPassiveWarning)
	}
	w("# Put it in the filter section of /etc/pf.conf, check with `pfctl -nf /etc/pf.conf`, load with")
	w("# `pfctl -f /etc/pf.conf`. pf keeps state, so established sessions go on. pf has no FTP helper")
	w("# for a server: the passive range is opened explicitly (ftp-proxy(8) is for clients).")
	var ports []string
	for _, c := range p.ControlPorts() {
		ports = append(ports, strconv.Itoa(int(c)))
	}
	if !p.Passive.IsZero() {
		ports = append(ports, fmt.Sprintf("%d:%d", p.Passive.Low, p.Passive.High))
	}
	w("port21_ports = \"{ %s }\"", strings.Join(ports, ", "))
	if !p.Block {
		var nets []string
		for _, a := range p.Allow {
			nets = append(nets, a.String())
		}
		w("table <port21_allow> persist { %s }", strings.Join(nets, ", "))
		w("pass in quick proto tcp from <port21_allow> to any port $port21_ports keep state")
	}
	w("block drop in quick proto tcp from any to any port $port21_ports")
	return b.String(), nil
}
