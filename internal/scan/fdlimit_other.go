//go:build !unix

package scan

// fdLimit has no per-process file limit to read here; Windows' socket
// limit is far above the sweep's own cap.
func fdLimit() int { return 1 << 16 }
