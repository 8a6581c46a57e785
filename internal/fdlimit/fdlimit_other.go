//go:build !unix

package fdlimit

// Limit has no per-process file limit to read here; Windows' socket
// limit is far above what a session or a sweep needs.
func Limit() int { return 1 << 16 }
