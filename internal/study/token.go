package study

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// tokenBytes is the size of a rater's token: 128 random bits.
const tokenBytes = 16

// TokenLen is the length of a token as text.
var TokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// NewToken returns a new random token, as it goes into an invite link,
// and its hash, which is all a Store keeps.
func NewToken() (token string, hash [32]byte) {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails (crypto/rand)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the hash under which a token's rater is stored.
func HashToken(token string) [32]byte { return sha256.Sum256([]byte("emer rater\x00" + token)) }

// WellFormedToken reports whether s can be a token: TokenLen characters
// of the URL-safe base64 alphabet. It is a cheap check before a lookup.
func WellFormedToken(s string) bool {
	if len(s) != TokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// clipIDBytes is the size of a clip id: 64 random bits, as 16 hex digits.
const clipIDBytes = 8

func newClipID() string {
	b := make([]byte, clipIDBytes)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// WellFormedClipID reports whether s can be a clip id: 16 lower-case hex
// digits.
func WellFormedClipID(s string) bool {
	if len(s) != 2*clipIDBytes {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

func newSecret() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}
