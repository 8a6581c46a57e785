package ftp_test

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/port21/port21/internal/ftp"
)

func ExampleReply_String() {
	r := ftp.Reply{Code: ftp.CodeSystemStatus, Lines: []string{
		"Status of port21:",
		"Logged in as alice",
		"200 files stored", // starts with a digit: indented on the wire
		"End of status",
	}}
	fmt.Printf("%q\n", r.String())
	// Output:
	// "211-Status of port21:\r\nLogged in as alice\r\n 200 files stored\r\n211 End of status\r\n"
}

func ExampleReader_ReadCommand() {
	// A client interrupting a transfer: Telnet IP and DM, then ABOR.
	r := ftp.NewReader(strings.NewReader("user alice\r\n\xff\xf4\xff\xf2ABOR\r\n"))
	for {
		cmd, err := r.ReadCommand()
		if err != nil {
			break
		}
		fmt.Printf("%q %q\n", cmd.Verb, cmd.Arg)
	}
	// Output:
	// "USER" "alice"
	// "ABOR" ""
}

func ExampleParseEPRT() {
	for _, arg := range []string{"|2|::1|5282|", "~1~192.0.2.7~40000~", "|3|x|1|"} {
		ap, err := ftp.ParseEPRT(arg)
		fmt.Println(ap, err)
	}
	// Output:
	// [::1]:5282 <nil>
	// 192.0.2.7:40000 <nil>
	// invalid AddrPort ftp: unsupported network protocol: EPRT "|3|x|1|"
}

func ExampleFormatPASV() {
	ap := netip.MustParseAddrPort("192.0.2.7:50021")
	fmt.Printf("%q\n", ftp.NewReply(ftp.CodeEnteringPassive, ftp.FormatPASV(ap)))
	fmt.Printf("%q\n", ftp.NewReply(ftp.CodeEnteringEPSV, ftp.FormatEPSV(ap.Port())))
	// Output:
	// "227 Entering Passive Mode (192,0,2,7,195,101).\r\n"
	// "229 Entering Extended Passive Mode (|||50021|)\r\n"
}

func ExampleListLine() {
	now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	fmt.Println(ftp.ListLine(ftp.ListEntry{
		Name: "report.pdf", Mode: 0o644, Size: 1234,
		ModTime: time.Date(2026, 11, 24, 14, 35, 0, 0, time.UTC),
	}, now))
	fmt.Println(ftp.ListLine(ftp.ListEntry{
		Name: "archive", Mode: os.ModeDir | 0o755, Size: 4096, Nlink: 2,
		ModTime: time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC),
	}, now))
	// Output:
	// -rw-r--r--    1 ftp      ftp          1234 Nov 24 14:35 report.pdf
	// drwxr-xr-x    2 ftp      ftp          4096 Jan  2  2024 archive
}

func ExampleFacts_Format() {
	set, echo := ftp.ParseFactList("Type;Size;Modify;")
	f := ftp.Facts{
		Type: "file", Size: 1234, HasSize: true,
		Modify: time.Date(2026, 11, 24, 14, 35, 0, 0, time.UTC),
		Perm:   ftp.PermFacts(false, true, true),
		Name:   "report.pdf",
	}
	fmt.Println("200 MLST OPTS " + echo)
	fmt.Println(f.Format(set))
	fmt.Println(f.Format(ftp.DefaultFacts))
	// Output:
	// 200 MLST OPTS type;size;modify;
	// type=file;size=1234;modify=20261124143500; report.pdf
	// type=file;size=1234;modify=20261124143500;perm=adfrw; report.pdf
}
