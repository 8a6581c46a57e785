package users

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
)

// passwordAlphabet has no characters that are easily confused when read or
// retyped: no 0/O/o, 1/l/I. 56 symbols carry log2(56) ≈ 5.81 bits each.
const passwordAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz"

// GeneratedPasswordLen is the length of GeneratePassword's passwords: 24
// symbols of passwordAlphabet are about 139 bits, comfortably above 128.
const GeneratedPasswordLen = 24

// GeneratePassword returns a new random password from crypto/rand, about 139
// bits strong, made of letters and digits that cannot be mistaken for one
// another, and without punctuation so that a double-click selects all of it.
// The error is always nil today; it is there so that a future source of
// randomness that can fail does not change the signature.
func GeneratePassword() (string, error) {
	const n = len(passwordAlphabet)
	// Bytes at or above limit are dropped, so every symbol is equally likely.
	const limit = 256 - 256%n
	out := make([]byte, 0, GeneratedPasswordLen)
	buf := make([]byte, 2*GeneratedPasswordLen)
	for len(out) < GeneratedPasswordLen {
		rand.Read(buf) // never fails (crypto/rand documents it)
		for _, b := range buf {
			if int(b) < limit && len(out) < GeneratedPasswordLen {
				out = append(out, passwordAlphabet[int(b)%n])
			}
		}
	}
	return string(out), nil
}

// ReadPassword returns the first line of r without its line ending (\n or
// \r\n), for passwords given on standard input; anything after the first
// line is ignored and at most MaxPasswordLen+3 bytes are read. The password
// is checked with ValidatePassword.
func ReadPassword(r io.Reader) (string, error) {
	// One byte over the limit tells "too long" from "at the limit"; two more
	// leave room for the line ending.
	br := bufio.NewReader(io.LimitReader(r, MaxPasswordLen+3))
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	if line == "" {
		return "", fmt.Errorf("%w: no input", ErrBadPassword)
	}
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	if err := ValidatePassword(line); err != nil {
		return "", err
	}
	return line, nil
}
