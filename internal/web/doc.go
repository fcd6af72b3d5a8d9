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
//
// With ReviewOptions, a Server also serves the review of the
// descriptions emer build summarize made (a ReviewStore, the same state
// emer build review exports and imports). The organizer, at
// /admin/review, invites reviewers by name, each with a secret link,
// /review/TOKEN, kept only as a hash; loads grounding checks (ReadCheck);
// and downloads the review CSV. A reviewer lists the descriptions,
// pending first, with filters, and on the page of one (the clip's video
// and subtitle, the description, the check's verdict and evidence beside
// each claim, the history of changes) accepts the draft, saves an edited
// text or rejects it with a note. Each change is made under the
// reviewer's name and committed before the page answers; one sent from a
// page made before the description last changed is refused, so that
// nobody undoes a change they have not seen.
package web
