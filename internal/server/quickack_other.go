//go:build !linux

package server

import "net"

// quickAck is Linux only (TCP_QUICKACK); elsewhere the system's delayed-ACK
// policy stands.
func quickAck(*net.TCPConn) {}
