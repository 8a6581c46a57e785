<?php
// One step of the port21 interop matrix, done with PHP's ftp extension.
//
// The Go test runs this script once per step (php-cli). PHP's ftp functions
// print no dialogue, so the script logs each call it makes on standard
// error; the step's result (a listing) goes to standard output. It exits 0 on
// success, 1 when the server or the network refused, 2 on bad usage.
//
// ftp_ssl_connect is explicit FTPS (AUTH TLS, then PBSZ 0 and PROT P at
// login). The extension copies the control connection's TLS session into
// every data connection (SSL_copy_session_id) and ends them with
// SSL_shutdown (close_notify), so it works against port21's defaults. It
// never checks the server's certificate, and offers no setting to: the
// TLS version and certificate options of a stream context do not apply.

$opts = getopt("", ["host:", "port:", "user:", "password:", "cafile:", "tls:", "tls-max:",
    "mode:", "step:", "remote:", "local:", "new:", "timeout:"]);
foreach (["host", "port", "user", "password", "step"] as $k) {
    if (!isset($opts[$k])) {
        fwrite(STDERR, "php_client.php: --$k is required\n");
        exit(2);
    }
}
$tls = $opts["tls"] ?? "reuse";
$timeout = (int)($opts["timeout"] ?? 20);
$remote = $opts["remote"] ?? "";
$local = $opts["local"] ?? "";

function say($msg) { fwrite(STDERR, "php: $msg\n"); }
function fail($msg) {
    $e = error_get_last();
    fwrite(STDERR, "ERROR: $msg" . ($e ? ": " . $e["message"] : "") . "\n");
    exit(1);
}

if ($tls === "none") {
    say("ftp_connect({$opts['host']}, {$opts['port']})");
    $ftp = @ftp_connect($opts["host"], (int)$opts["port"], $timeout);
} else {
    say("ftp_ssl_connect({$opts['host']}, {$opts['port']})");
    $ftp = @ftp_ssl_connect($opts["host"], (int)$opts["port"], $timeout);
}
if ($ftp === false) fail("connect failed");
say("ftp_login({$opts['user']})");
if (!@ftp_login($ftp, $opts["user"], $opts["password"])) fail("login failed");
$passive = ($opts["mode"] ?? "passive") === "passive";
say("ftp_pasv(" . ($passive ? "true" : "false") . ")");
if (!@ftp_pasv($ftp, $passive)) fail("ftp_pasv failed");
// PHP's default is to use the address in the PASV reply: keep it.

$ok = true;
switch ($opts["step"]) {
case "list":
    say("ftp_rawlist(.)");
    $lines = @ftp_rawlist($ftp, ".");
    if ($lines === false) fail("ftp_rawlist failed");
    echo implode("\n", $lines), "\n";
    break;
case "upload":
    say("ftp_put($remote, $local, FTP_BINARY)");
    $ok = @ftp_put($ftp, $remote, $local, FTP_BINARY);
    break;
case "download":
    say("ftp_get($local, $remote, FTP_BINARY)");
    $ok = @ftp_get($ftp, $local, $remote, FTP_BINARY);
    break;
case "resume-download":
    // FTP_AUTORESUME: REST from the local file's size, appending to it.
    say("ftp_get($local, $remote, FTP_BINARY, FTP_AUTORESUME)");
    $ok = @ftp_get($ftp, $local, $remote, FTP_BINARY, FTP_AUTORESUME);
    break;
case "resume-upload":
    // FTP_AUTORESUME: SIZE on the server, then REST and STOR of the rest.
    say("ftp_put($remote, $local, FTP_BINARY, FTP_AUTORESUME)");
    $ok = @ftp_put($ftp, $remote, $local, FTP_BINARY, FTP_AUTORESUME);
    break;
case "mkdir":
    say("ftp_mkdir($remote)");
    $ok = @ftp_mkdir($ftp, $remote) !== false;
    break;
case "rename":
    say("ftp_rename($remote, {$opts['new']})");
    $ok = @ftp_rename($ftp, $remote, $opts["new"]);
    break;
case "delete":
    say("ftp_delete($remote)");
    $ok = @ftp_delete($ftp, $remote);
    break;
case "rmdir":
    say("ftp_rmdir($remote)");
    $ok = @ftp_rmdir($ftp, $remote);
    break;
default:
    fwrite(STDERR, "php_client.php: unknown step {$opts['step']}\n");
    exit(2);
}
if (!$ok) fail($opts["step"] . " failed");
say("ftp_close()");
ftp_close($ftp);
exit(0);
