package audit

import (
	"context"
	"log/slog"
	"net/netip"
	"time"
)

// Event is one thing the server did or refused. Each kind is a struct of
// its own; its name and fields are the audit log's, documented in
// EVENTS.md and kept stable, since log shippers and fail2ban filters are
// written against them. The session's logger adds client, session and,
// after login, user to every event.
type Event interface {
	// Name is the event's "msg" in the JSON log.
	Name() string
	Level() slog.Level
	// Attrs are the event's own fields, in a fixed order.
	Attrs() []slog.Attr
}

// Channel values of TLS and TLSFailed.
const (
	ChannelControl = "control"
	ChannelData    = "data"
)

// Connect: a control connection passed the allow/deny lists, the bans and
// the connection limits, and its session starts.
type Connect struct {
	Local       netip.AddrPort
	ImplicitTLS bool
}

func (Connect) Name() string      { return "connect" }
func (Connect) Level() slog.Level { return slog.LevelInfo }
func (e Connect) Attrs() []slog.Attr {
	return []slog.Attr{slog.String("local", e.Local.String()), slog.Bool("implicit_tls", e.ImplicitTLS)}
}

// TLS: a handshake completed on the control or a data connection.
type TLS struct {
	Channel string
	Version string // "TLS 1.3"
	Cipher  string
	ALPN    string
	Resumed bool
}

func (TLS) Name() string { return "tls" }

// Level: a data connection's handshake (one per transfer) is a debug line;
// the metrics count it whatever the level.
func (e TLS) Level() slog.Level {
	if e.Channel == ChannelData {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}
func (e TLS) Attrs() []slog.Attr {
	return []slog.Attr{slog.String("channel", e.Channel), slog.String("version", e.Version),
		slog.String("cipher", e.Cipher), slog.String("alpn", e.ALPN), slog.Bool("resumed", e.Resumed)}
}

// TLSFailed: a handshake failed; Hint says what usually causes Err.
type TLSFailed struct {
	Channel string
	Err     string
	Hint    string
}

func (TLSFailed) Name() string      { return "tls-failed" }
func (TLSFailed) Level() slog.Level { return slog.LevelWarn }
func (e TLSFailed) Attrs() []slog.Attr {
	return []slog.Attr{slog.String("channel", e.Channel), slog.String("err", e.Err), slog.String("hint", e.Hint)}
}

// Login: an account logged in.
type Login struct {
	User      string
	TLS       bool
	ReadOnly  bool
	Anonymous bool
	Perms     string
}

func (Login) Name() string      { return "login" }
func (Login) Level() slog.Level { return slog.LevelInfo }
func (e Login) Attrs() []slog.Attr {
	return []slog.Attr{slog.String("user", e.User), slog.Bool("tls", e.TLS), slog.Bool("read_only", e.ReadOnly),
		slog.Bool("anonymous", e.Anonymous), slog.String("perms", e.Perms)}
}

// LoginFailed: a password (or an account) was wrong. It counts towards a
// ban; Banned says whether this one earned it.
type LoginFailed struct {
	User   string // as the client sent it: hostile input
	Reason string // "unknown user", "wrong password", "disabled", ...
	Banned bool
}

func (LoginFailed) Name() string      { return "login-failed" }
func (LoginFailed) Level() slog.Level { return slog.LevelWarn }
func (e LoginFailed) Attrs() []slog.Attr {
	return []slog.Attr{slog.String("user", e.User), slog.String("reason", e.Reason), slog.Bool("banned", e.Banned)}
}

// Stages of a Refused event: where in a session the server said no.
const (
	StageConnect = "connect" // before a byte was sent (lists, bans) or with a 421 (limits)
	StageLogin   = "login"
	StageData    = "data"   // a data connection, PORT or PASV
	StageUpload  = "upload" // quota
	StageCommand = "command"
)

// Refused: the server refused something that is not a wrong password.
// Reason is a short stable token (see EVENTS.md); Detail the specifics.
type Refused struct {
	Stage  string
	Reason string
	User   string // the name given, for refusals before login (else omitted)
	Detail string
}

func (Refused) Name() string      { return "refused" }
func (Refused) Level() slog.Level { return slog.LevelWarn }
func (e Refused) Attrs() []slog.Attr {
	attrs := []slog.Attr{slog.String("stage", e.Stage), slog.String("reason", e.Reason)}
	if e.User != "" {
		// Only before login: a logged-in session's logger names the account.
		attrs = append(attrs, slog.String("user", e.User))
	}
	return append(attrs, slog.String("detail", e.Detail))
}

// Ban: an address or network is banned, by this server's defender
// (Source "defender") or found in the shared store ("store").
type Ban struct {
	Prefix   netip.Prefix
	Until    time.Time
	Offences int
	Reason   string
	Source   string
}

func (Ban) Name() string      { return "ban" }
func (Ban) Level() slog.Level { return slog.LevelWarn }
func (e Ban) Attrs() []slog.Attr {
	return []slog.Attr{slog.String("prefix", e.Prefix.String()), slog.String("until", e.Until.UTC().Format(time.RFC3339)),
		slog.Int("offences", e.Offences), slog.String("reason", e.Reason), slog.String("source", e.Source)}
}

// Transfer (the struct xferlog lines are made of) is also the event of
// a finished data transfer: a listing, a download or an upload.
func (Transfer) Name() string      { return "transfer" }
func (Transfer) Level() slog.Level { return slog.LevelInfo }
func (t Transfer) Attrs() []slog.Attr {
	return []slog.Attr{slog.String("op", t.Op), slog.String("path", t.Path), slog.Int64("bytes", t.Bytes),
		slog.Int64("ms", t.Duration.Milliseconds()), slog.Int("code", t.Code), slog.Bool("complete", t.Complete),
		slog.String("err", t.Err)}
}

// FileOp: a change to the file system other than a transfer.
type FileOp struct {
	Op   string // "mkdir", "rmdir", "delete", "rename", "chmod"
	Path string
	To   string // rename's new path; chmod's mode as set
}

func (FileOp) Name() string      { return "file" }
func (FileOp) Level() slog.Level { return slog.LevelInfo }
func (e FileOp) Attrs() []slog.Attr {
	return []slog.Attr{slog.String("op", e.Op), slog.String("path", e.Path), slog.String("to", e.To)}
}

// Disconnect: a session ended. Reason is "closed" (QUIT or the client
// hung up), "idle-timeout", "login-timeout", "banned", "account-changed",
// "shutdown" or "error".
type Disconnect struct {
	Reason string
	Detail string
}

func (Disconnect) Name() string      { return "disconnect" }
func (Disconnect) Level() slog.Level { return slog.LevelInfo }
func (e Disconnect) Attrs() []slog.Attr {
	return []slog.Attr{slog.String("reason", e.Reason), slog.String("detail", e.Detail)}
}

// Observer receives every event after it is logged (package metrics
// counts them). Called from many goroutines.
type Observer interface {
	Observe(Event)
}

// Sink is where the server sends its events: the JSON (or text) log
// through the session's logger, the xferlog for file transfers, and the
// observers. A nil Sink only logs.
type Sink struct {
	xferlog   *Xferlog
	observers []Observer
}

// NewSink returns a sink writing transfers to xferlog (nil: none) and
// handing every event to observers.
func NewSink(xferlog *Xferlog, observers ...Observer) *Sink {
	return &Sink{xferlog: xferlog, observers: observers}
}

// Emit logs e with log (which carries the session's fields) and passes it
// on. Safe for concurrent use.
func (s *Sink) Emit(ctx context.Context, log *slog.Logger, e Event) {
	log.LogAttrs(ctx, e.Level(), e.Name(), e.Attrs()...)
	if s == nil {
		return
	}
	if t, ok := e.(Transfer); ok && s.xferlog != nil && t.IsFile() {
		s.xferlog.Transfer(t)
	}
	for _, o := range s.observers {
		o.Observe(e)
	}
}

// Examples returns one event of every kind, for the tests that keep
// EVENTS.md and the metrics in step with the events.
func Examples() []Event {
	return []Event{Connect{}, TLS{}, TLSFailed{}, Login{}, LoginFailed{}, Refused{User: "x"}, Ban{}, Transfer{}, FileOp{}, Disconnect{}}
}
