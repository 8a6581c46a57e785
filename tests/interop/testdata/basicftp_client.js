// One step of the port21 interop matrix, done with Node's basic-ftp.
//
// The Go test installs basic-ftp (an exact version) into a private
// directory and runs this script once per step with NODE_PATH pointing
// there. It prints basic-ftp's dialogue ("> CMD", "< reply") on standard
// error, the step's result (a listing) on standard output, and exits 0 on
// success, 1 when the server or the network refused, 2 on bad usage.
//
// basic-ftp resumes the control connection's TLS session on every data
// connection (transfer.js passes `session` to tls.connect) and ends uploads
// with socket.end(), which sends close_notify: it works against port21's
// defaults with an ordinary account. It has no active mode.
"use strict";

const fs = require("fs");
const ftp = require("basic-ftp");

function parseArgs(argv) {
    const args = { tls: "reuse", tlsMax: "1.3", timeout: 20, implicit: false };
    for (let i = 0; i < argv.length; i++) {
        const key = argv[i];
        const val = () => {
            if (i + 1 >= argv.length) usage("missing value for " + key);
            return argv[++i];
        };
        switch (key) {
            case "--host": args.host = val(); break;
            case "--port": args.port = Number(val()); break;
            case "--user": args.user = val(); break;
            case "--password": args.password = val(); break;
            case "--cafile": args.cafile = val(); break;
            case "--tls": args.tls = val(); break;
            case "--tls-max": args.tlsMax = val(); break;
            case "--implicit": args.implicit = true; break;
            case "--mode": args.mode = val(); break;
            case "--step": args.step = val(); break;
            case "--remote": args.remote = val(); break;
            case "--local": args.local = val(); break;
            case "--new": args.newName = val(); break;
            case "--timeout": args.timeout = Number(val()); break;
            default: usage("unknown argument " + key);
        }
    }
    if (!args.host || !args.port || !args.user || !args.step) usage("--host, --port, --user and --step are required");
    if (args.mode === "active") usage("basic-ftp has no active mode");
    return args;
}

function usage(msg) {
    process.stderr.write("basicftp_client.js: " + msg + "\n");
    process.exit(2);
}

async function runStep(client, args) {
    switch (args.step) {
        case "list": {
            const entries = await client.list();
            return entries.map(e => `${e.type} ${e.size} ${e.name}`).join("\n") + "\n";
        }
        case "upload":
            await client.uploadFrom(args.local, args.remote);
            return "";
        case "download":
            await client.downloadTo(args.local, args.remote);
            return "";
        case "resume-download":
            // REST from what is already here, appending to the local file.
            await client.downloadTo(args.local, args.remote, fs.statSync(args.local).size);
            return "";
        case "resume-upload": {
            // Ask the server how much it has and append the rest (APPE).
            const have = await client.size(args.remote);
            await client.appendFrom(fs.createReadStream(args.local, { start: have }), args.remote);
            return "";
        }
        case "mkdir":
            await client.send("MKD " + args.remote);
            return "";
        case "rename":
            await client.rename(args.remote, args.newName);
            return "";
        case "delete":
            await client.remove(args.remote);
            return "";
        case "rmdir":
            await client.removeDir(args.remote);
            return "";
        default:
            usage("unknown step " + args.step);
    }
}

async function main() {
    const args = parseArgs(process.argv.slice(2));
    // basic-ftp logs with console.log: keep standard output for the result.
    console.log = (...a) => process.stderr.write(a.join(" ") + "\n");
    const client = new ftp.Client(args.timeout * 1000);
    client.ftp.verbose = true;
    let secure = false;
    let secureOptions;
    if (args.tls !== "none") {
        secure = args.implicit ? "implicit" : true;
        secureOptions = {
            ca: [fs.readFileSync(args.cafile)],
            // port21's generated certificate names localhost and the
            // loopback addresses.
            servername: "localhost",
            maxVersion: args.tlsMax === "1.2" ? "TLSv1.2" : "TLSv1.3",
        };
    }
    try {
        await client.access({ host: args.host, port: args.port, user: args.user, password: args.password, secure, secureOptions });
        if (client.ftp.socket.getProtocol) {
            process.stderr.write("*info* TLS version: " + client.ftp.socket.getProtocol() + "\n");
        }
        const out = await runStep(client, args);
        process.stdout.write(out);
        await client.send("QUIT").catch(() => {});
        client.close();
    } catch (e) {
        process.stderr.write("ERROR: " + (e && e.stack ? e.stack : e) + "\n");
        client.close();
        process.exitCode = 1;
    }
}

main();
