// Package table reads the CSV files of the EMER and AffectGPT releases: one
// row per clip, keyed by a `names` or `name` column, with text columns such
// as `reasons`, `chi_reasons`, `openset`, `emotions` or `subtitles`.
//
// It accepts what spreadsheet programs and pandas write (a UTF-8 or UTF-16
// byte-order mark, CRLF line ends, quoted fields spanning several lines),
// reads other encodings such as GB18030 through package textenc, and
// reports problems with the file and line they come from. Text that is not
// valid in the file's encoding is an error, never read as U+FFFD, and the
// lines, records and header of a file are bounded so that a bad input
// fails fast instead of filling memory.
package table
