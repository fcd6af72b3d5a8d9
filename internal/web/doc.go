// Package web is the browser side of rating studies (internal/study):
// server-rendered pages for the organizer (studies made from a clip
// folder and EMER CSV files, invitations, progress, the ratings as CSV)
// and for raters (a clip with its subtitle, the candidate reasonings in
// the rater's blind order, four levels each, keyboard shortcuts).
//
// Organizer pages need the admin token (a cookie set by the login form,
// or an Authorization: Bearer header). A rater's pages live under their
// secret link, /r/TOKEN, and show only that rater's work. Nothing a rater
// receives names a system or a file: clips are opaque ids, candidates are
// positions resolved on the server. State-changing requests from other
// sites are refused (net/http's CrossOriginProtection), and every page
// carries a strict Content-Security-Policy.
package web
