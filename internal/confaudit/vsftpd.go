package confaudit

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"

	"github.com/port21/port21/internal/finding"
)

// VsftpdOption is one key=value line of vsftpd.conf.
type VsftpdOption struct {
	Value string
	Line  int
	Text  string // the line as written
}

// ParseVsftpd reads vsftpd.conf: "key=value" lines, '#' comments at the
// start of a line. Like vsftpd, a later setting of a key wins. Keys are
// returned lower-case.
func ParseVsftpd(b []byte) map[string]VsftpdOption {
	opts := map[string]VsftpdOption{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		opts[strings.ToLower(strings.TrimSpace(k))] = VsftpdOption{Value: strings.TrimSpace(v), Line: n, Text: t}
	}
	return opts
}

func vsBool(opts map[string]VsftpdOption, key string, def bool) (bool, VsftpdOption) {
	o, ok := opts[key]
	if !ok {
		return def, o
	}
	switch strings.ToUpper(o.Value) {
	case "YES", "TRUE", "1":
		return true, o
	case "NO", "FALSE", "0":
		return false, o
	}
	return def, o
}

// AuditVsftpd audits vsftpd.conf. Defaults are Debian's vsftpd 3.0.3
// built-in ones (anonymous_enable defaults to NO there, YES upstream, so
// only an explicit YES is reported).
func AuditVsftpd(file string, b []byte) ([]finding.Finding, Ports) {
	opts := ParseVsftpd(b)
	var out []finding.Finding
	add := func(id string, o VsftpdOption, fix ...string) {
		ev := o.Text
		if o.Line == 0 && len(fix) > 0 {
			ev = "not set: the default applies"
		}
		out = append(out, newFinding(id, Vsftpd, file, o.Line, ev, fix...))
	}
	anon, anonOpt := vsBool(opts, "anonymous_enable", false)
	local, _ := vsBool(opts, "local_enable", false)
	write, _ := vsBool(opts, "write_enable", false)
	if anon {
		add(finding.IDAnonymousLogin, anonOpt, "anonymous_enable=NO")
		for _, k := range []string{"anon_upload_enable", "anon_mkdir_write_enable", "anon_other_write_enable"} {
			if on, o := vsBool(opts, k, false); on && write {
				add(finding.IDAnonymousWrite, o, k+"=NO")
			}
		}
	}
	ssl, sslOpt := vsBool(opts, "ssl_enable", false)
	if !ssl {
		add(finding.IDNoTLS, sslOpt, "ssl_enable=YES", "rsa_cert_file=/etc/ssl/certs/ftp.pem", "rsa_private_key_file=/etc/ssl/private/ftp.key", "force_local_logins_ssl=YES", "force_local_data_ssl=YES")
		// Without TLS every local login is a cleartext login, as
		// `port21 scan` sees it: "USER x" is answered 331 in clear. An
		// anonymous-only server answers 530 instead.
		if local {
			add(finding.IDCleartextLogin, sslOpt, "ssl_enable=YES", "force_local_logins_ssl=YES")
		}
	} else {
		if local {
			if on, o := vsBool(opts, "force_local_logins_ssl", true); !on {
				add(finding.IDCleartextLogin, o, "force_local_logins_ssl=YES")
			}
			if on, o := vsBool(opts, "force_local_data_ssl", true); !on {
				add(finding.IDDataCleartext, o, "force_local_data_ssl=YES")
			}
		}
		// Anonymous sessions may use TLS only with allow_anon_ssl; then
		// their data connections stay in clear unless forced.
		if allow, _ := vsBool(opts, "allow_anon_ssl", false); anon && allow {
			if on, o := vsBool(opts, "force_anon_data_ssl", false); !on {
				add(finding.IDDataCleartext, o, "force_anon_data_ssl=YES")
			}
		}
		legacyOK := strings.Contains(strings.ToUpper(opts["ssl_ciphers"].Value), "@SECLEVEL=0")
		if on, o := vsBool(opts, "ssl_tlsv1", true); on && legacyOK {
			// OpenSSL 3 refuses TLS 1.0 and 1.1 above security level 0:
			// with SECLEVEL=0 the default ssl_tlsv1=YES lets them in.
			if o.Line == 0 {
				o = opts["ssl_ciphers"]
			}
			add(finding.IDTLSLegacyProtocol, o, "ssl_tlsv1=NO", "ssl_ciphers=ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL")
		}
		for _, k := range []string{"ssl_sslv2", "ssl_sslv3"} {
			if on, o := vsBool(opts, k, false); on {
				add(finding.IDTLSLegacyProtocol, o, k+"=NO")
			}
		}
		if o, ok := opts["ssl_ciphers"]; ok && weakCiphers(o.Value) {
			add(finding.IDTLSWeakCipher, o, "ssl_ciphers=ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")
		}
		if on, o := vsBool(opts, "strict_ssl_read_eof", false); !on {
			add(IDTruncationAllowed, o, "strict_ssl_read_eof=YES")
		}
	}
	if local {
		chroot, co := vsBool(opts, "chroot_local_user", false)
		if !chroot {
			add(IDNoChroot, co, "chroot_local_user=YES")
		} else if on, o := vsBool(opts, "allow_writeable_chroot", false); on {
			add(IDWritableChroot, o, "allow_writeable_chroot=NO", "# make each home directory read-only (chmod a-w) with a writable subdirectory")
		}
	}
	if on, o := vsBool(opts, "port_promiscuous", false); on {
		add(finding.IDFTPBounce, o, "port_promiscuous=NO")
	}
	if on, o := vsBool(opts, "pasv_promiscuous", false); on {
		add(finding.IDFTPBounce, o, "pasv_promiscuous=NO")
	}
	var passive [2]uint16
	lo, hi := opts["pasv_min_port"], opts["pasv_max_port"]
	l, err1 := strconv.ParseUint(lo.Value, 10, 16)
	h, err2 := strconv.ParseUint(hi.Value, 10, 16)
	if pasv, _ := vsBool(opts, "pasv_enable", true); pasv {
		if err1 != nil || err2 != nil || l == 0 || h == 0 || l > h {
			o := lo
			if o.Line == 0 {
				o = hi
			}
			add(IDNoPassiveRange, o, "pasv_min_port=50000", "pasv_max_port=50100")
		} else {
			passive = [2]uint16{uint16(l), uint16(h)}
		}
	}
	if on, o := vsBool(opts, "xferlog_enable", false); !on {
		add(IDLoggingOff, o, "xferlog_enable=YES")
	}
	if banner, ok := opts["ftpd_banner"]; ok {
		if namesVersion(banner.Value) {
			add(finding.IDVersionDisclosed, banner, "ftpd_banner=FTP server ready.")
		}
	} else if _, ok := opts["banner_file"]; !ok {
		out = append(out, newFinding(finding.IDVersionDisclosed, Vsftpd, file, 0,
			"ftpd_banner not set: vsftpd greets with its version, e.g. \"220 (vsFTPd 3.0.3)\"", "ftpd_banner=FTP server ready."))
	}
	return out, Ports{Control: []uint16{vsPort(opts)}, Passive: passive}
}

// vsPort is the port a standalone vsftpd listens on (listen_port, 21 by
// default). Under inetd the port is inetd's, usually 21 too.
func vsPort(opts map[string]VsftpdOption) uint16 {
	if p, err := strconv.ParseUint(opts["listen_port"].Value, 10, 16); err == nil && p > 0 {
		return uint16(p)
	}
	return 21
}
