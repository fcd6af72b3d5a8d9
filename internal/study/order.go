package study

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Order returns the candidate ids in the order rater is shown them on
// clip: sorted by HMAC-SHA256, keyed by the study's secret, of rater, clip
// and candidate. The order is the same on every call and, without the
// secret, tells nothing of which candidate is which.
func Order(secret []byte, rater int64, clip string, ids []int) []int {
	type keyed struct {
		id  int
		key []byte
	}
	ks := make([]keyed, len(ids))
	for i, id := range ids {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("emer study order\x00"))
		m.Write(strconv.AppendInt(nil, rater, 10))
		m.Write([]byte{0})
		m.Write([]byte(clip))
		m.Write([]byte{0})
		m.Write(strconv.AppendInt(nil, int64(id), 10))
		ks[i] = keyed{id, m.Sum(nil)}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if c := slices.Compare(a.key, b.key); c != 0 {
			return c
		}
		return a.id - b.id
	})
	out := make([]int, len(ks))
	for i, k := range ks {
		out[i] = k.id
	}
	return out
}

// Ranks returns a permutation of 0..n-1 drawn from seed: Ranks(seed, n)[i]
// is the rank of the i-th clip of a study.
func Ranks(seed int64, n int) []int {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	sum := sha256.Sum256(append([]byte("emer study ranks\x00"), b[:]...))
	r := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
	return r.Perm(n)
}
