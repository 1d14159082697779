package models

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

//go:embed common_passwords.txt
var commonPasswordsFile string

var commonPasswords = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool, 1024)
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsFile))
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
})

// CommonPassword reports whether p is on the list of common passwords, or
// is one character repeated, or a run of consecutive digits or letters.
func CommonPassword(p string) bool {
	l := strings.ToLower(p)
	// "Password123!" is as weak as "password": look the word up again
	// without the digits and symbols people append.
	base := strings.TrimRightFunc(l, func(r rune) bool { return !unicode.IsLetter(r) })
	if commonPasswords()[l] || (utf8.RuneCountInString(base) >= 4 && commonPasswords()[base]) {
		return true
	}
	runes := []rune(l)
	same, up, down := true, true, true
	for i := 1; i < len(runes); i++ {
		same = same && runes[i] == runes[0]
		up = up && runes[i] == runes[i-1]+1
		down = down && runes[i] == runes[i-1]-1
	}
	return len(runes) > 0 && (same || up || down)
}

// PasswordProblem returns what is wrong with a new password, or "".
func PasswordProblem(p string) string {
	n := utf8.RuneCountInString(p)
	switch {
	case !utf8.ValidString(p) || strings.ContainsRune(p, 0):
		return "The password contains characters that cannot be used."
	case n < MinPasswordLength:
		return fmt.Sprintf("Use at least %d characters.", MinPasswordLength)
	case n > MaxPasswordLength:
		return fmt.Sprintf("Use at most %d characters.", MaxPasswordLength)
	case CommonPassword(p):
		return "This password is too common and easy to guess. Choose another one."
	}
	return ""
}

// Password limits. The upper bound keeps hashing cost bounded; 128 is the
// floor the project promises, we accept more.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 256
)

// argon2id parameters per RFC 9106's second recommended option (64 MiB,
// 3 passes), with 2 lanes for our 2-core machines.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
	argonSaltLen = 16
)

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("malformed password hash")

// CheckPassword reports whether password matches a hash made by HashPassword.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var mem, t uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &threads); err != nil {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 1024 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, t, mem, threads, uint32(len(want))) // #nosec G115 -- length checked above
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is checked against when the e-mail is unknown, so that sign-in
// takes as long for unknown addresses as for known ones.
var dummyHash = func() string {
	h, err := HashPassword("margin-timing-equaliser")
	if err != nil {
		panic(err)
	}
	return h
}()
