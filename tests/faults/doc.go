// Package faults runs the real port21 binary through the faults a server
// meets in production (kill -9 in the middle of uploads, a full disk) and
// checks that nothing is lost or left half-written. It has only tests.
package faults
