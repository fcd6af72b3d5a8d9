// Package table reads the CSV files of the EMER and AffectGPT releases: one
// row per clip, keyed by a `names` or `name` column, with text columns such
// as `reasons`, `chi_reasons`, `openset`, `emotions` or `subtitles`.
//
// It accepts what spreadsheet programs and pandas write (a UTF-8 byte-order
// mark, CRLF line ends, quoted fields spanning several lines) and reports
// problems with the file and line they come from.
package table
