// Package haproxy runs port21 behind a real HAProxy (Debian's haproxy):
// two `port21 serve` nodes, one behind a frontend that sends PROXY protocol
// version 2 and one behind a frontend that sends version 1, and a real
// client (curl) that logs in and transfers files through HAProxy, with the
// data connections going straight to the node's passive-host address.
//
// It checks what a unit test cannot: that HAProxy's own headers parse,
// that the node's audit log names the client (a distinct loopback source,
// 127.0.0.9) and not HAProxy, and that a failed-login ban lands on the
// client's address, not on HAProxy's.
//
// The test starts haproxy itself, in the foreground (-db), and stops it by
// PID. It skips when haproxy or curl is missing, unless
// PORT21_REQUIRE_CLIENTS=1 (scripts/test.sh), which makes that a failure;
// -short skips it. Everything stays on 127.0.0.0/8.
package haproxy
