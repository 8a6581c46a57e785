package ftp

// Reply codes. The first digit says how the command went (1 preliminary,
// 2 done, 3 more needed, 4 transient failure, 5 permanent failure, 6 protected
// reply); the second says what about (0 syntax, 1 information, 2 connections,
// 3 authentication, 5 file system). The names follow the text the defining RFC
// gives each code, so that a reader of the server can look them up.
const (
	CodeRestartMarker   = 110 // RFC 959: restart marker reply (MODE B)
	CodeServiceReadyIn  = 120 // RFC 959: service ready in nnn minutes
	CodeDataConnOpen    = 125 // RFC 959: data connection already open; transfer starting
	CodeFileStatusOK    = 150 // RFC 959: file status okay; about to open data connection
	CodeOK              = 200 // RFC 959: command okay
	CodeNotNeeded       = 202 // RFC 959: command not implemented, superfluous at this site
	CodeSystemStatus    = 211 // RFC 959: system status or help reply; RFC 2389 FEAT
	CodeDirectoryStatus = 212 // RFC 959: directory status
	CodeFileStatus      = 213 // RFC 959: file status; RFC 3659 SIZE and MDTM
	CodeHelp            = 214 // RFC 959: help message
	CodeSystemType      = 215 // RFC 959: NAME system type (SYST)
	CodeServiceReady    = 220 // RFC 959: service ready for new user (greeting)
	CodeClosing         = 221 // RFC 959: service closing control connection
	CodeDataConnIdle    = 225 // RFC 959: data connection open; no transfer in progress
	// CodeTransferComplete means the transfer succeeded and the server has
	// closed the data connection (RFC 959).
	CodeTransferComplete    = 226
	CodeEnteringPassive     = 227 // RFC 959: entering passive mode (h1,h2,h3,h4,p1,p2)
	CodeEnteringLongPassive = 228 // RFC 1639: entering long passive mode (LPSV)
	CodeEnteringEPSV        = 229 // RFC 2428: entering extended passive mode (|||port|)
	CodeLoggedIn            = 230 // RFC 959: user logged in, proceed
	CodeLoggedInAuthorized  = 232 // RFC 2228: user logged in, authorized by security data exchange
	CodeAuthOK              = 234 // RFC 2228: security data exchange complete; RFC 4217 reply to AUTH TLS
	CodeADATOK              = 235 // RFC 2228: security data exchange completed successfully
	CodeFileActionOK        = 250 // RFC 959: requested file action okay, completed
	CodePathCreated         = 257 // RFC 959: "PATHNAME" created (also the PWD reply)

	CodeNeedPassword          = 331 // RFC 959: user name okay, need password
	CodeNeedAccount           = 332 // RFC 959: need account for login
	CodeNeedADAT              = 334 // RFC 2228: security mechanism accepted; ADAT must follow
	CodeADATNeedMore          = 335 // RFC 2228: security data acceptable; more is required
	CodeNeedPasswordChallenge = 336 // RFC 2228: user name okay, need password; challenge follows
	CodePendingMore           = 350 // RFC 959: requested file action pending further information (REST, RNFR)

	// CodeServiceNotAvailable closes the session: RFC 959 lets the server send
	// it in reply to any command when it must shut the connection down.
	CodeServiceNotAvailable  = 421
	CodeCantOpenData         = 425 // RFC 959: can't open data connection
	CodeTransferAborted      = 426 // RFC 959: connection closed; transfer aborted
	CodeInvalidCredentials   = 430 // common extension: invalid user name or password
	CodeNeedSecurityResource = 431 // RFC 2228: need some unavailable resource to process security
	CodeHostUnavailable      = 434 // RFC 7151: requested host unavailable (HOST)
	CodeActionNotTaken       = 450 // RFC 959: file unavailable (busy); action not taken
	CodeLocalError           = 451 // RFC 959: action aborted: local error in processing
	CodeInsufficientStorage  = 452 // RFC 959: insufficient storage space in system

	CodeSyntaxError         = 500 // RFC 959: syntax error, command unrecognized (also: line too long)
	CodeParamSyntaxError    = 501 // RFC 959: syntax error in parameters or arguments
	CodeNotImplemented      = 502 // RFC 959: command not implemented
	CodeBadSequence         = 503 // RFC 959: bad sequence of commands
	CodeParamNotImplemented = 504 // RFC 959: command not implemented for that parameter
	// CodeDataProtectionRefused is RFC 4217's refusal of a data connection
	// whose PROT level the server's policy forbids (e.g. clear text when TLS is
	// required). RFC 959's appendix uses the same number for "directory already
	// exists"; port21 uses 550 for that.
	CodeDataProtectionRefused        = 521
	CodeBadNetworkProtocol           = 522 // RFC 2428: network protocol not supported (EPRT/EPSV)
	CodeNotLoggedIn                  = 530 // RFC 959: not logged in
	CodeNeedAccountForStore          = 532 // RFC 959: need account for storing files
	CodeProtectionLevelDenied        = 533 // RFC 2228: command protection level denied for policy reasons
	CodePolicyRefused                = 534 // RFC 2228: request denied for policy reasons (RFC 4217: TLS required or refused)
	CodeFailedSecurityCheck          = 535 // RFC 2228: failed security check (hash, sequence, etc.)
	CodeProtLevelNotSupported        = 536 // RFC 2228: requested PROT level not supported by mechanism
	CodeCommandProtectionUnsupported = 537 // RFC 2228: command protection level not supported by security mechanism
	CodeFileUnavailable              = 550 // RFC 959: file unavailable (not found, no access); action not taken
	CodePageTypeUnknown              = 551 // RFC 959: page type unknown; action aborted
	CodeExceededStorage              = 552 // RFC 959: exceeded storage allocation; action aborted
	CodeBadFileName                  = 553 // RFC 959: file name not allowed; action not taken

	CodeIntegrityProtected       = 631 // RFC 2228: integrity protected reply
	CodeConfidentialityIntegrity = 632 // RFC 2228: confidentiality and integrity protected reply
	CodeConfidentialityProtected = 633 // RFC 2228: confidentiality protected reply
)

// CodeText returns a short English text for a reply code, or "" if the code
// is unknown. It lets the server answer with a conventional message when it
// has nothing more specific to say, as net/http.StatusText does for HTTP.
func CodeText(code int) string {
	switch code {
	case CodeRestartMarker:
		return "Restart marker."
	case CodeServiceReadyIn:
		return "Service ready in a few minutes."
	case CodeDataConnOpen:
		return "Data connection already open; transfer starting."
	case CodeFileStatusOK:
		return "File status okay; about to open data connection."
	case CodeOK:
		return "Command okay."
	case CodeNotNeeded:
		return "Command not needed at this site."
	case CodeSystemStatus:
		return "System status."
	case CodeDirectoryStatus:
		return "Directory status."
	case CodeFileStatus:
		return "File status."
	case CodeHelp:
		return "Help message."
	case CodeSystemType:
		return "UNIX Type: L8"
	case CodeServiceReady:
		return "Service ready."
	case CodeClosing:
		return "Goodbye."
	case CodeDataConnIdle:
		return "Data connection open; no transfer in progress."
	case CodeTransferComplete:
		return "Transfer complete."
	case CodeEnteringPassive:
		return "Entering Passive Mode."
	case CodeEnteringLongPassive:
		return "Entering Long Passive Mode."
	case CodeEnteringEPSV:
		return "Entering Extended Passive Mode."
	case CodeLoggedIn:
		return "Login successful."
	case CodeLoggedInAuthorized:
		return "User logged in, authorized by security data exchange."
	case CodeAuthOK:
		return "Security data exchange complete."
	case CodeADATOK:
		return "Security data exchange completed successfully."
	case CodeFileActionOK:
		return "Requested file action okay, completed."
	case CodePathCreated:
		return "Path created."
	case CodeNeedPassword:
		return "User name okay, need password."
	case CodeNeedAccount:
		return "Need account for login."
	case CodeNeedADAT:
		return "Security mechanism accepted; send ADAT."
	case CodeADATNeedMore:
		return "Security data acceptable; more is required."
	case CodeNeedPasswordChallenge:
		return "User name okay, need password."
	case CodePendingMore:
		return "Requested file action pending further information."
	case CodeServiceNotAvailable:
		return "Service not available, closing control connection."
	case CodeCantOpenData:
		return "Can't open data connection."
	case CodeTransferAborted:
		return "Connection closed; transfer aborted."
	case CodeInvalidCredentials:
		return "Invalid user name or password."
	case CodeNeedSecurityResource:
		return "Need some unavailable resource to process security."
	case CodeHostUnavailable:
		return "Requested host unavailable."
	case CodeActionNotTaken:
		return "Requested file action not taken."
	case CodeLocalError:
		return "Requested action aborted: local error in processing."
	case CodeInsufficientStorage:
		return "Insufficient storage space."
	case CodeSyntaxError:
		return "Syntax error, command unrecognized."
	case CodeParamSyntaxError:
		return "Syntax error in parameters or arguments."
	case CodeNotImplemented:
		return "Command not implemented."
	case CodeBadSequence:
		return "Bad sequence of commands."
	case CodeParamNotImplemented:
		return "Command not implemented for that parameter."
	case CodeDataProtectionRefused:
		return "Data connection cannot be opened with this PROT setting."
	case CodeBadNetworkProtocol:
		return "Network protocol not supported, use (1,2)."
	case CodeNotLoggedIn:
		return "Not logged in."
	case CodeNeedAccountForStore:
		return "Need account for storing files."
	case CodeProtectionLevelDenied:
		return "Command protection level denied for policy reasons."
	case CodePolicyRefused:
		return "Request denied for policy reasons."
	case CodeFailedSecurityCheck:
		return "Failed security check."
	case CodeProtLevelNotSupported:
		return "Requested PROT level not supported by mechanism."
	case CodeCommandProtectionUnsupported:
		return "Command protection level not supported by security mechanism."
	case CodeFileUnavailable:
		return "Requested action not taken. File unavailable."
	case CodePageTypeUnknown:
		return "Requested action aborted: page type unknown."
	case CodeExceededStorage:
		return "Requested file action aborted. Exceeded storage allocation."
	case CodeBadFileName:
		return "Requested action not taken. File name not allowed."
	case CodeIntegrityProtected:
		return "Integrity protected reply."
	case CodeConfidentialityIntegrity:
		return "Confidentiality and integrity protected reply."
	case CodeConfidentialityProtected:
		return "Confidentiality protected reply."
	}
	return ""
}
