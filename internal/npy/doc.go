// Package npy reads NumPy's .npy arrays and .npz archives as the EMER and
// AffectGPT releases ship them: numeric and string arrays, and object arrays
// whose payload is a Python pickle of plain data (dicts, lists, strings,
// numbers, nested ndarrays and numpy scalars).
//
// The pickle reader resolves only the handful of numpy globals that plain
// data needs (ndarray reconstruction, dtype, scalar); any other global, and
// so any attempt to load an arbitrary class, is refused with
// ErrForbiddenGlobal. Pickled values come back as plain Go values: string,
// int64, *big.Int, float64, bool, nil, []byte, []any (lists and tuples),
// map[string]any (dicts) and *Array (nested arrays).
package npy
