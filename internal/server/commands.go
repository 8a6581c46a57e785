package server

import (
	"sort"
	"strings"

	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/users"
)

// command is one entry of the dispatch table. The flags put every gate
// (login, arguments, read-only accounts) in one place, dispatch.
type command struct {
	fn             func(s *session, arg string) bool // false ends the session
	needLogin      bool
	needArg        bool
	write          bool       // changes the file system: refused for read-only users
	perm           users.Perm // the account must have these permissions
	transfer       bool       // consumes REST
	duringTransfer bool       // served while a transfer runs
	// dataSetup marks the data-connection setup commands (PASV, EPSV, PORT,
	// EPRT): they grant nothing by themselves, and the transfer command that
	// follows re-reads the account, so they skip that store read (one per
	// small file, half the command path's CPU in BenchmarkSmallFiles).
	dataSetup bool
	help      string
}

// commandTable returns the dispatch table. It is built once per server and
// never changed.
func commandTable() map[string]command {
	t := map[string]command{
		// Access control (RFC 959 4.1.1, RFC 4217).
		"USER": {fn: (*session).cmdUSER, needArg: true, help: "USER <name>"},
		"PASS": {fn: (*session).cmdPASS, help: "PASS <password>"},
		"ACCT": {fn: (*session).cmdACCT, help: "ACCT (not needed)"},
		"QUIT": {fn: (*session).cmdQUIT, duringTransfer: true, help: "QUIT"},
		"REIN": {fn: (*session).cmdREIN, help: "REIN (log out, keep the connection)"},
		"AUTH": {fn: (*session).cmdAUTH, needArg: true, help: "AUTH TLS"},
		"PBSZ": {fn: (*session).cmdPBSZ, needArg: true, help: "PBSZ 0"},
		"PROT": {fn: (*session).cmdPROT, needArg: true, help: "PROT P"},
		"CCC":  {fn: (*session).cmdCCC, help: "CCC (refused)"},

		// Parameters (RFC 959 4.1.2, RFC 2428).
		"PORT": {fn: (*session).cmdPORT, needLogin: true, needArg: true, dataSetup: true, help: "PORT h1,h2,h3,h4,p1,p2"},
		"EPRT": {fn: (*session).cmdEPRT, needLogin: true, needArg: true, dataSetup: true, help: "EPRT |proto|addr|port|"},
		"PASV": {fn: (*session).cmdPASV, needLogin: true, dataSetup: true, help: "PASV"},
		"EPSV": {fn: (*session).cmdEPSV, needLogin: true, dataSetup: true, help: "EPSV [1|2|ALL]"},
		"TYPE": {fn: (*session).cmdTYPE, needLogin: true, needArg: true, help: "TYPE A|I"},
		"MODE": {fn: (*session).cmdMODE, needLogin: true, needArg: true, help: "MODE S"},
		"STRU": {fn: (*session).cmdSTRU, needLogin: true, needArg: true, help: "STRU F"},

		// Service (RFC 959 4.1.3, RFC 3659, MFMT, HASH).
		"RETR": {fn: (*session).cmdRETR, needLogin: true, needArg: true, transfer: true, perm: users.PermDownload, help: "RETR <path>"},
		"STOR": {fn: (*session).cmdSTOR, needLogin: true, needArg: true, write: true, transfer: true, perm: users.PermUpload, help: "STOR <path>"},
		"STOU": {fn: (*session).cmdSTOU, needLogin: true, write: true, transfer: true, perm: users.PermUpload, help: "STOU [<name>]"},
		"APPE": {fn: (*session).cmdAPPE, needLogin: true, needArg: true, write: true, transfer: true, perm: users.PermUpload, help: "APPE <path>"},
		"ALLO": {fn: (*session).cmdALLO, needLogin: true, help: "ALLO <size>"},
		"REST": {fn: (*session).cmdREST, needLogin: true, needArg: true, help: "REST <offset>"},
		"RNFR": {fn: (*session).cmdRNFR, needLogin: true, needArg: true, write: true, perm: users.PermRename, help: "RNFR <path>"},
		"RNTO": {fn: (*session).cmdRNTO, needLogin: true, needArg: true, write: true, perm: users.PermRename, help: "RNTO <path>"},
		"ABOR": {fn: (*session).cmdABOR, needLogin: true, duringTransfer: true, help: "ABOR"},
		"DELE": {fn: (*session).cmdDELE, needLogin: true, needArg: true, write: true, perm: users.PermDelete, help: "DELE <path>"},
		"RMD":  {fn: (*session).cmdRMD, needLogin: true, needArg: true, write: true, perm: users.PermRmdir, help: "RMD <path>"},
		"MKD":  {fn: (*session).cmdMKD, needLogin: true, needArg: true, write: true, perm: users.PermMkdir, help: "MKD <path>"},
		"PWD":  {fn: (*session).cmdPWD, needLogin: true, help: "PWD"},
		"CWD":  {fn: (*session).cmdCWD, needLogin: true, help: "CWD <path>"},
		"CDUP": {fn: (*session).cmdCDUP, needLogin: true, help: "CDUP"},
		"LIST": {fn: (*session).cmdLIST, needLogin: true, transfer: true, perm: users.PermList, help: "LIST [<path>]"},
		"NLST": {fn: (*session).cmdNLST, needLogin: true, transfer: true, perm: users.PermList, help: "NLST [<path>]"},
		"MLSD": {fn: (*session).cmdMLSD, needLogin: true, transfer: true, perm: users.PermList, help: "MLSD [<path>]"},
		"MLST": {fn: (*session).cmdMLST, needLogin: true, perm: users.PermList, help: "MLST [<path>]"},
		"SIZE": {fn: (*session).cmdSIZE, needLogin: true, needArg: true, perm: users.PermList, help: "SIZE <path>"},
		"MDTM": {fn: (*session).cmdMDTM, needLogin: true, needArg: true, perm: users.PermList, help: "MDTM [<YYYYMMDDHHMMSS>] <path>"},
		"MFMT": {fn: (*session).cmdMFMT, needLogin: true, needArg: true, write: true, perm: users.PermOverwrite, help: "MFMT <YYYYMMDDHHMMSS> <path>"},
		"HASH": {fn: (*session).cmdHASH, needLogin: true, needArg: true, perm: users.PermDownload, help: "HASH <path>"},
		"SITE": {fn: (*session).cmdSITE, needLogin: true, needArg: true, help: "SITE HELP | SITE CHMOD <mode> <path>"},
		"SYST": {fn: (*session).cmdSYST, help: "SYST"},
		"STAT": {fn: (*session).cmdSTAT, duringTransfer: true, help: "STAT [<path>]"},
		"HELP": {fn: (*session).cmdHELP, help: "HELP [<command>]"},
		"NOOP": {fn: (*session).cmdNOOP, duringTransfer: true, help: "NOOP"},
		"FEAT": {fn: (*session).cmdFEAT, help: "FEAT"},
		"OPTS": {fn: (*session).cmdOPTS, needArg: true, help: "OPTS UTF8 ON | MLST facts | HASH algorithm"},
	}
	// Hash commands older than HASH, with a fixed algorithm (ProFTPD
	// mod_digest, Serv-U); FileZilla and FluentFTP send them.
	for verb, algo := range map[string]string{"XSHA256": "SHA-256", "XSHA1": "SHA-1", "XSHA": "SHA-1", "XMD5": "MD5", "XCRC": "CRC32"} {
		t[verb] = command{fn: hashCommand(algo), needLogin: true, needArg: true, help: verb + " <path> (" + algo + ")"}
	}
	// RFC 775 aliases that some clients still send.
	for alias, verb := range map[string]string{"XCUP": "CDUP", "XCWD": "CWD", "XMKD": "MKD", "XPWD": "PWD", "XRMD": "RMD"} {
		c := t[verb]
		c.help = alias + " (same as " + verb + ")"
		t[alias] = c
	}
	return t
}

func (s *session) cmdNOOP(string) bool {
	s.reply(ftp.CodeOK, "NOOP ok.")
	return true
}

func (s *session) cmdSYST(string) bool {
	s.reply(ftp.CodeSystemType, "UNIX Type: L8")
	return true
}

func (s *session) cmdQUIT(string) bool {
	if s.xfer != nil {
		s.xfer.abort()
		s.xfer.wait()
		s.xfer = nil
	}
	s.reply(ftp.CodeClosing, "Goodbye.")
	return false
}

func (s *session) cmdACCT(string) bool {
	s.reply(ftp.CodeNotNeeded, "ACCT not needed.")
	return true
}

func (s *session) cmdALLO(string) bool {
	s.reply(ftp.CodeNotNeeded, "ALLO not needed.")
	return true
}

func (s *session) cmdCCC(string) bool {
	s.reply(ftp.CodePolicyRefused, "CCC refused: the control connection stays encrypted.")
	return true
}

func (s *session) cmdHELP(arg string) bool {
	if arg != "" {
		if c, ok := s.srv.cmds[strings.ToUpper(strings.TrimSpace(arg))]; ok {
			s.reply(ftp.CodeHelp, "Syntax: %s", c.help)
		} else {
			s.reply(ftp.CodeParamSyntaxError, "Unknown command %q.", arg)
		}
		return true
	}
	verbs := make([]string, 0, len(s.srv.cmds))
	for v := range s.srv.cmds {
		verbs = append(verbs, v)
	}
	sort.Strings(verbs)
	lines := []string{"The following commands are recognized:"}
	for i := 0; i < len(verbs); i += 8 {
		lines = append(lines, strings.Join(verbs[i:min(i+8, len(verbs))], " "))
	}
	lines = append(lines, "Help OK.")
	s.send(ftp.Reply{Code: ftp.CodeHelp, Lines: lines})
	return true
}

// features are announced by FEAT (RFC 2389). AUTH TLS comes first: clients
// read it before logging in.
func (s *session) cmdFEAT(string) bool {
	feats := []string{
		"AUTH TLS",
		"PBSZ",
		"PROT",
		"EPRT",
		"EPSV",
		"MDTM",
		"MFMT",
		"SIZE",
		"REST STREAM",
		s.facts.Feature(),
		"TVFS",
		"UTF8",
		hashFeature(s.hashAlgo),
	}
	s.send(ftp.FeatReply(feats))
	return true
}

func (s *session) cmdOPTS(arg string) bool {
	name, rest := subcommand(arg)
	switch strings.ToUpper(name) {
	case "UTF8", "UTF-8":
		// Names are always UTF-8 (RFC 2640); OFF changes nothing we send.
		s.reply(ftp.CodeOK, "UTF8 mode is always on.")
	case "MLST":
		set, echo := ftp.ParseFactList(rest)
		s.facts = set
		s.mlstAsked = true
		s.reply(ftp.CodeOK, "MLST OPTS %s", echo)
	case "HASH":
		if rest == "" {
			s.reply(ftp.CodeOK, "%s", s.hashAlgo)
			return true
		}
		algo, ok := canonicalHash(rest)
		if !ok {
			s.reply(ftp.CodeParamSyntaxError, "Unknown hash algorithm; use one of %s.", strings.Join(hashNames, ", "))
			return true
		}
		s.hashAlgo = algo
		s.reply(ftp.CodeOK, "%s", algo)
	default:
		s.reply(ftp.CodeParamNotImplemented, "OPTS %s not supported.", name)
	}
	return true
}

func (s *session) cmdTYPE(arg string) bool {
	switch strings.ToUpper(strings.Join(strings.Fields(arg), " ")) {
	case "A", "A N":
		s.typ = 'A'
		s.reply(ftp.CodeOK, "Switching to ASCII mode.")
	case "I", "L 8":
		s.typ = 'I'
		s.reply(ftp.CodeOK, "Switching to Binary mode.")
	default:
		s.reply(ftp.CodeParamNotImplemented, "Only TYPE A and TYPE I are supported.")
	}
	return true
}

func (s *session) cmdMODE(arg string) bool {
	if strings.EqualFold(strings.TrimSpace(arg), "S") {
		s.reply(ftp.CodeOK, "Mode set to S.")
	} else {
		s.reply(ftp.CodeParamNotImplemented, "Only MODE S is supported.")
	}
	return true
}

func (s *session) cmdSTRU(arg string) bool {
	if strings.EqualFold(strings.TrimSpace(arg), "F") {
		s.reply(ftp.CodeOK, "Structure set to F.")
	} else {
		s.reply(ftp.CodeParamNotImplemented, "Only STRU F is supported.")
	}
	return true
}
