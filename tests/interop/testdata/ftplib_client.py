#!/usr/bin/python3
"""One step of the port21 interop matrix, done with Python's ftplib.

The Go test runs this script once per step. It prints the server dialogue
(ftplib's debug output, with the password masked) on standard error, the
step's result (a listing) on standard output, and exits 0 on success, 1 when
the server or the network refused, 2 on bad usage.

--tls selects the client:
  none   ftplib.FTP, no TLS at all (for --allow-cleartext accounts);
  stock  ftplib.FTP_TLS as shipped: its data connections never resume the
         control connection's TLS session, so a server that binds data
         connections to their control session (port21, vsftpd
         require_ssl_reuse, ProFTPD without NoSessionReuseRequired) refuses
         them unless the account allows it;
  reuse  SessionReusingFTP_TLS below, which does resume it.
"""

import argparse
import contextlib
import ftplib
import os
import ssl
import sys


class SessionReusingFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS session.

    FTP_TLS.ntransfercmd wraps the data socket with a fresh handshake. The
    only change here is to hand the control connection's session to
    wrap_socket, so the data connection proves it comes from the same
    client. Under TLS 1.3 the session exists once the server's ticket has
    been read, which is long done by the time a logged-in client transfers.
    """

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(
                conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


def connect(args):
    if args.tls == "none":
        ftp = ftplib.FTP()
    else:
        ctx = ssl.create_default_context(cafile=args.cafile)
        if args.tls_max == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        cls = SessionReusingFTP_TLS if args.tls == "reuse" else ftplib.FTP_TLS
        ftp = cls(context=ctx)
    ftp.set_debuglevel(1)
    ftp.connect(args.host, args.port, timeout=args.timeout)
    ftp.login(args.user, args.password)
    if args.tls != "none":
        ftp.prot_p()
    ftp.set_pasv(args.mode == "passive")
    return ftp


def run_step(ftp, args, out):
    step = args.step
    if step == "list":
        ftp.retrlines("LIST", lambda line: print(line, file=out))
    elif step == "upload":
        with open(args.local, "rb") as f:
            ftp.storbinary("STOR " + args.remote, f)
    elif step == "download":
        with open(args.local, "wb") as f:
            ftp.retrbinary("RETR " + args.remote, f.write)
    elif step == "resume-download":
        # Go on from whatever part of the file is already here.
        offset = os.path.getsize(args.local)
        with open(args.local, "ab") as f:
            ftp.retrbinary("RETR " + args.remote, f.write, rest=offset)
    elif step == "resume-upload":
        # Ask the server how much it has, and send only the rest (REST+STOR).
        ftp.voidcmd("TYPE I")
        offset = ftp.size(args.remote)
        with open(args.local, "rb") as f:
            f.seek(offset)
            ftp.storbinary("STOR " + args.remote, f, rest=offset)
    elif step == "mkdir":
        ftp.mkd(args.remote)
    elif step == "rename":
        ftp.rename(args.remote, args.new)
    elif step == "delete":
        ftp.delete(args.remote)
    elif step == "rmdir":
        ftp.rmd(args.remote)
    else:
        raise SystemExit("unknown step " + step)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--cafile")
    p.add_argument("--tls", choices=["none", "stock", "reuse"], default="reuse")
    p.add_argument("--tls-max", choices=["1.2", "1.3"], default="1.3")
    p.add_argument("--mode", choices=["passive", "active"], default="passive")
    p.add_argument("--step", required=True)
    p.add_argument("--remote", default="")
    p.add_argument("--local", default="")
    p.add_argument("--new", default="")
    p.add_argument("--timeout", type=float, default=20)
    args = p.parse_args()
    if args.tls != "none" and not args.cafile:
        p.error("--cafile is required with TLS")

    out = sys.stdout
    try:
        # ftplib's debug output goes to standard output; keep that for the
        # step's result and send the dialogue to standard error.
        with contextlib.redirect_stdout(sys.stderr):
            ftp = connect(args)
            print("*info* TLS version:",
                  ftp.sock.version() if hasattr(ftp.sock, "version") else "none")
            run_step(ftp, args, out)
            ftp.quit()
    except (ftplib.all_errors + (ssl.SSLError,)) as e:
        print("ERROR: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
