package npy

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// scan walks a pickle stream's opcodes without executing them and checks
// that every length-prefixed argument fits in the data, so that a corrupt
// or hostile length can never make the unpickler allocate more than the
// stream's own size. It also rejects opcodes that do not exist.
// maxNumberText bounds a text-coded number (opcodes I, L and F).
const maxNumberText = 4300

func scan(data []byte) error {
	i := 0
	for i < len(data) {
		op := data[i]
		at := i
		i++
		need := func(n uint64) error {
			if n > uint64(len(data)-i) {
				return fmt.Errorf("%w: opcode %q at byte %d needs %d bytes, %d remain", ErrPickle, op, at, n, len(data)-i)
			}
			i += int(n)
			return nil
		}
		lenPrefixed := func(width int) error {
			if err := need(uint64(width)); err != nil {
				return err
			}
			b := data[i-width : i]
			var n uint64
			switch width {
			case 1:
				n = uint64(b[0])
			case 4:
				n = uint64(binary.LittleEndian.Uint32(b))
			case 8:
				n = binary.LittleEndian.Uint64(b)
			}
			return need(n)
		}
		line := func() error {
			j := bytes.IndexByte(data[i:], '\n')
			if j < 0 {
				return fmt.Errorf("%w: opcode %q at byte %d: unterminated line", ErrPickle, op, at)
			}
			i += j + 1
			return nil
		}
		var err error
		switch op {
		case '.': // STOP
			return nil
		case 'I', 'L', 'F':
			// Python refuses integers of more than 4300 digits; parsing
			// longer ones costs quadratic time.
			start := i
			if err = line(); err == nil && i-start > maxNumberText {
				err = fmt.Errorf("%w: number of %d characters at byte %d", ErrPickle, i-start, at)
			}
		case 'S', 'V', 'P', 'p', 'g':
			err = line()
		case 'c', 'i':
			if err = line(); err == nil {
				err = line()
			}
		case 'K', 'q', 'h', 0x80, 0x82:
			err = need(1)
		case 'M', 0x83:
			err = need(2)
		case 'J', 'r', 'j', 0x84:
			err = need(4)
		case 'G':
			err = need(8)
		case 0x95: // FRAME: the frame's length is checked, its opcodes scanned
			if err = need(8); err == nil {
				n := binary.LittleEndian.Uint64(data[i-8 : i])
				if n > uint64(len(data)-i) {
					err = fmt.Errorf("%w: frame at byte %d of %d bytes runs past the end", ErrPickle, at, n)
				}
			}
		case 'U', 'C', 0x8a, 0x8c:
			err = lenPrefixed(1)
		case 'T', 'X', 'B', 0x8b:
			err = lenPrefixed(4)
		case 0x8d, 0x8e, 0x96:
			err = lenPrefixed(8)
		case '(', ')', ']', '}', 'a', 'e', 'b', 'd', 'l', 'o', 'R', 's', 't', 'u',
			'0', '1', '2', 'N', 'Q', 0x81, 0x85, 0x86, 0x87, 0x88, 0x89,
			0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98:
		default:
			return fmt.Errorf("%w: unknown opcode %#x at byte %d", ErrPickle, op, at)
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: stream ends without STOP", ErrPickle)
}
