// Package textenc turns the text files emer reads (CSV tables, label lists,
// SRT/VTT subtitles) into UTF-8 and refuses what is not text.
//
// By default a file is UTF-8, with or without a byte-order mark; UTF-16
// with a byte-order mark is decoded too. Any other file must be read through
// a named encoding (GB18030, GBK, Big5, Shift_JIS, UTF-16LE, ...: see
// Lookup), which the command line sets for every file with --encoding.
// Bytes that are not valid in the encoding, and NUL bytes, which no text
// file holds, are errors that name the file, line and column and quote a
// short excerpt, so that mis-decoded text is never scored as if it were
// data.
//
// Readers also bound what one bad input can cost: a line, and the whole
// file, have a maximum length (Limits).
package textenc
