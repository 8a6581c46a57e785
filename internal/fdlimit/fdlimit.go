// Package fdlimit reads how many files the process may have open, so the
// server and the scanner size themselves to it and say so, instead of
// meeting EMFILE from the kernel halfway through.
package fdlimit

// PerSession is what one FTP session can hold open at once: the control
// connection, a passive listener, a data connection, a file and two
// handles on the home directory (os.Root's, and the jail's for openat2).
const PerSession = 6

// Reserve is kept for listeners, the user store, log files and the
// metrics endpoint.
const Reserve = 64

// Sessions is how many sessions fit in the process's file limit.
func Sessions() int {
	return max(1, (Limit()-Reserve)/PerSession)
}
