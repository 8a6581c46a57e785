#!/usr/bin/python3
"""One step of the port21 interop matrix, done with ftputil (Debian's python3-ftputil).

The Go test runs this script once per step, with the arguments of
ftplib_client.py. ftplib's debug output (the dialogue) goes to standard
error, the step's result (a listing) to standard output; the exit status is
0 on success, 1 when the server or the network refused, 2 on bad usage.

ftputil builds its sessions on an ftplib class through
ftputil.session.session_factory, and opens a second session (a child
control connection) for every file transfer. With --tls stock the base class
is ftplib.FTP_TLS, whose data connections never resume the TLS session:
port21 refuses them (522) unless the account has --tls-reuse-optional. With
--tls reuse it is SessionReusingFTP_TLS of ftplib_client.py, the four-line
subclass, and ftputil works against port21's defaults.
"""

import argparse
import contextlib
import ftplib
import os
import ssl
import sys

import ftputil
import ftputil.error
import ftputil.session

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ftplib_client import SessionReusingFTP_TLS  # noqa: E402


def make_factory(args):
    if args.tls == "none":
        base = ftplib.FTP
    else:
        ctx = ssl.create_default_context(cafile=args.cafile)
        if args.tls_max == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        parent = SessionReusingFTP_TLS if args.tls == "reuse" else ftplib.FTP_TLS

        class base(parent):
            # session_factory calls the base class without arguments.
            def __init__(self, *a, **kw):
                kw.setdefault("context", ctx)
                super().__init__(*a, **kw)

    return ftputil.session.session_factory(
        base_class=base, port=args.port, use_passive_mode=(args.mode == "passive"),
        encrypt_data_channel=True, encoding="utf-8", debug_level=1)


def run_step(host, args, out):
    step = args.step
    if step == "list":
        for name in host.listdir(host.curdir):
            print(name, file=out)
    elif step == "upload":
        host.upload(args.local, args.remote)
    elif step == "download":
        host.download(args.remote, args.local)
    elif step == "resume-download":
        offset = os.path.getsize(args.local)
        with host.open(args.remote, "rb", rest=offset) as src, open(args.local, "ab") as dst:
            while chunk := src.read(1 << 16):
                dst.write(chunk)
    elif step == "resume-upload":
        offset = host.path.getsize(args.remote)
        with open(args.local, "rb") as src, host.open(args.remote, "wb", rest=offset) as dst:
            src.seek(offset)
            while chunk := src.read(1 << 16):
                dst.write(chunk)
    elif step == "mkdir":
        host.mkdir(args.remote)
    elif step == "rename":
        host.rename(args.remote, args.new)
    elif step == "delete":
        host.remove(args.remote)
    elif step == "rmdir":
        host.rmdir(args.remote)
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
    import socket
    socket.setdefaulttimeout(args.timeout)

    out = sys.stdout
    try:
        with contextlib.redirect_stdout(sys.stderr):
            with ftputil.FTPHost(args.host, args.user, args.password,
                                 session_factory=make_factory(args)) as host:
                run_step(host, args, out)
    except (ftputil.error.FTPError, ssl.SSLError, OSError) as e:
        print("ERROR: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
