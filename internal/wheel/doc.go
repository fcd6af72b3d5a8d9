// Package wheel maps open-vocabulary emotion labels onto emotion wheels, as
// the AffectGPT / OV-MER / MER-UniBench evaluation does.
//
// A Lexicon holds three maps built from the released files:
//
//   - Format (format.csv): a word form to the base words it is a form of
//     ("abandonment" -> "abandoned");
//   - Raw (synonym.xlsx, eight runs merged): a word to the emotion-wheel
//     words it is a synonym of;
//   - five wheels (wheel1..5.xlsx), each with a level-1 map (every node to
//     its root) and a level-2 map (a root to its first child in sort order,
//     a level-2 word to itself, a level-3 word to its parent).
//
// M1, M2 and M3 are the three mappings of the OV-MER metrics (the
// reference's case1, case2 and case3); a label outside the lexicon maps to
// nothing and is dropped.
package wheel
