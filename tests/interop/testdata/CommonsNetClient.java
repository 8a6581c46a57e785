// One step of the port21 interop matrix, done with Apache Commons Net's
// FTPSClient (Debian's libcommons-net-java).
//
// The Go test compiles this once and runs it once per step, with the
// arguments of ftplib_client.py. The dialogue (PrintCommandListener, the
// password masked) goes to standard error, the step's result (a listing) to
// standard output; the exit status is 0 on success, 1 when the server or the
// network refused, 2 on bad usage.
//
// FTPSClient never resumes the control connection's TLS session on data
// connections (JSSE caches sessions by host and port, and every data
// connection has a new port), so port21 refuses its data connections (522)
// unless the account has --tls-reuse-optional.

import java.io.*;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.*;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.apache.commons.net.PrintCommandListener;
import org.apache.commons.net.ftp.*;

public class CommonsNetClient {
    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new HashMap<>();
        a.put("--tls", "reuse");
        a.put("--tls-max", "1.3");
        a.put("--mode", "passive");
        a.put("--timeout", "20");
        for (int i = 0; i < argv.length; i++) {
            if (argv[i].equals("--implicit")) {
                a.put("--implicit", "yes");
                continue;
            }
            if (i + 1 >= argv.length) {
                System.err.println("CommonsNetClient: missing value for " + argv[i]);
                System.exit(2);
            }
            a.put(argv[i], argv[++i]);
        }
        try {
            System.exit(run(a));
        } catch (IOException e) {
            System.err.println("ERROR: " + e);
            System.exit(1);
        }
    }

    static int run(Map<String, String> a) throws Exception {
        boolean tls = !a.get("--tls").equals("none");
        FTPClient ftp;
        if (tls) {
            FTPSClient s = new FTPSClient("TLS", a.containsKey("--implicit"));
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            X509Certificate cert;
            try (InputStream in = new FileInputStream(a.get("--cafile"))) {
                cert = (X509Certificate) cf.generateCertificate(in);
            }
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            ks.setCertificateEntry("port21", cert);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            s.setTrustManager((X509TrustManager) tmf.getTrustManagers()[0]);
            s.setEndpointCheckingEnabled(true);
            if (a.get("--tls-max").equals("1.2")) {
                s.setEnabledProtocols(new String[] {"TLSv1.2"});
            }
            ftp = s;
        } else {
            ftp = new FTPClient();
        }
        ftp.addProtocolCommandListener(new PrintCommandListener(new PrintWriter(System.err, true), true));
        Duration timeout = Duration.ofSeconds(Long.parseLong(a.get("--timeout")));
        ftp.setConnectTimeout((int) timeout.toMillis());
        ftp.setDefaultTimeout((int) timeout.toMillis());
        ftp.setDataTimeout(timeout);
        ftp.connect(a.get("--host"), Integer.parseInt(a.get("--port")));
        check(ftp, FTPReply.isPositiveCompletion(ftp.getReplyCode()), "connect");
        check(ftp, ftp.login(a.get("--user"), a.get("--password")), "login");
        if (tls) {
            FTPSClient s = (FTPSClient) ftp;
            s.execPBSZ(0);
            s.execPROT("P");
        }
        check(ftp, ftp.setFileType(FTP.BINARY_FILE_TYPE), "TYPE I");
        if (a.get("--mode").equals("passive")) {
            ftp.enterLocalPassiveMode();
        } else {
            ftp.enterLocalActiveMode();
        }
        String remote = a.get("--remote"), local = a.get("--local");
        switch (a.get("--step")) {
            case "list": {
                FTPFile[] files = ftp.listFiles();
                check(ftp, FTPReply.isPositiveCompletion(ftp.getReplyCode()), "LIST");
                for (FTPFile f : files) {
                    System.out.println(f.getRawListing());
                }
                break;
            }
            case "upload":
                try (InputStream in = new FileInputStream(local)) {
                    check(ftp, ftp.storeFile(remote, in), "STOR");
                }
                break;
            case "download":
                try (OutputStream out = new FileOutputStream(local)) {
                    check(ftp, ftp.retrieveFile(remote, out), "RETR");
                }
                break;
            case "resume-download":
                // REST from what is already here, appending to it.
                ftp.setRestartOffset(new File(local).length());
                try (OutputStream out = new FileOutputStream(local, true)) {
                    check(ftp, ftp.retrieveFile(remote, out), "REST+RETR");
                }
                break;
            case "resume-upload": {
                // Ask the server how much it has, then REST and STOR the rest.
                check(ftp, ftp.sendCommand("SIZE", remote) == 213, "SIZE");
                long have = Long.parseLong(ftp.getReplyString().trim().substring(4).trim());
                try (InputStream in = new FileInputStream(local)) {
                    in.skipNBytes(have);
                    ftp.setRestartOffset(have);
                    check(ftp, ftp.storeFile(remote, in), "REST+STOR");
                }
                break;
            }
            case "mkdir":
                check(ftp, ftp.makeDirectory(remote), "MKD");
                break;
            case "rename":
                check(ftp, ftp.rename(remote, a.get("--new")), "RNFR/RNTO");
                break;
            case "delete":
                check(ftp, ftp.deleteFile(remote), "DELE");
                break;
            case "rmdir":
                check(ftp, ftp.removeDirectory(remote), "RMD");
                break;
            default:
                System.err.println("CommonsNetClient: unknown step " + a.get("--step"));
                return 2;
        }
        ftp.logout();
        ftp.disconnect();
        return 0;
    }

    static void check(FTPClient ftp, boolean ok, String what) throws IOException {
        if (!ok) {
            throw new IOException(what + " failed: " + ftp.getReplyString().trim());
        }
    }
}
