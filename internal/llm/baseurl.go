package llm

import (
	"net/url"
	"strings"
)

// NormalizeBaseURL returns the canonical form of a model server's base URL,
// so that one server is one judge and one set of cache keys however its
// URL is written: surrounding spaces and trailing slashes are removed, the
// scheme and host are lower-cased and a default port (:80 for http, :443
// for https) is dropped. "HTTP://Example.com:80/v1/" becomes
// "http://example.com/v1". Text that is not an absolute URL with a host
// loses only its spaces and trailing slashes; validating it is the
// caller's business. An empty string stays empty.
func NormalizeBaseURL(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return strings.TrimRight(s, "/")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	switch {
	case u.Scheme == "http" && strings.HasSuffix(u.Host, ":80"):
		u.Host = strings.TrimSuffix(u.Host, ":80")
	case u.Scheme == "https" && strings.HasSuffix(u.Host, ":443"):
		u.Host = strings.TrimSuffix(u.Host, ":443")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	u.ForceQuery = false // "?" alone is no query
	return u.String()
}
