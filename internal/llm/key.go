package llm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Key returns the cache key of req sent to baseURL: the SHA-256 of a
// canonical JSON encoding of the base URL (as NormalizeBaseURL writes it),
// model, messages (media bytes included), parameters and salt.
func Key(baseURL string, req Request) string {
	baseURL = NormalizeBaseURL(baseURL)
	// encoding/json writes struct fields in declaration order and maps in
	// key order, so the encoding is canonical for a given Request.
	b, err := json.Marshal(struct {
		V       int     `json:"v"`
		BaseURL string  `json:"base_url"`
		Req     Request `json:"request"`
	}{1, baseURL, req})
	if err != nil {
		panic(err) // a Request always encodes
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
