package face

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // JPEG decoder for DecodeFile
	_ "image/png"  // PNG decoder for DecodeFile
	"io"
	"math"
	"os"
	"strings"
)

// RGB is an 8-bit image, 3 bytes a pixel, rows top to bottom: the layout
// of decoded video frames (see package media) and of the networks' input.
type RGB struct {
	W, H int
	Pix  []byte // len W*H*3
}

// maxPixels bounds the images DecodeFile accepts: 8192×8192, room for an
// 8K (7680×4320) frame, at most 256 MB while decoding.
const maxPixels = 8192 * 8192

// DecodeFile reads a JPEG or PNG file into RGB. Alpha is ignored: each
// pixel keeps the colour stored in the file, so a transparent or
// translucent copy of a photo reads as the photo itself. The errors name
// the file and say what is wrong with it: a directory, an empty file, not
// an image, too large, or truncated or corrupt data.
func DecodeFile(path string) (*RGB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case st.IsDir():
		return nil, fmt.Errorf("%s: is a directory, not a JPEG or PNG image", path)
	case st.Size() == 0:
		return nil, fmt.Errorf("%s: is empty (0 bytes), not a JPEG or PNG image", path)
	}
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, fmt.Errorf("%s: not a JPEG or PNG image: %w", path, err)
		}
		return nil, decodeError(path, format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPixels {
		return nil, fmt.Errorf("%s: %s image of %dx%d pixels is out of range", path, format, cfg.Width, cfg.Height)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, decodeError(path, format, err)
	}
	return FromImage(img), nil
}

// decodeError explains a decoder's failure on the image file path. The
// decoders report data that ends early in several ways (an unexpected end
// of file, short Huffman data, not enough pixel data), so every failure
// is reported as a truncated or corrupt image.
func decodeError(path, format string, err error) error {
	name := "image"
	if format != "" {
		name = strings.ToUpper(format) + " image"
	}
	return fmt.Errorf("%s: the %s is truncated or corrupt: %w", path, name, err)
}

// FromImage converts any image to RGB, ignoring alpha: the colour channels
// are taken as stored, not multiplied by alpha, so that a face behind a
// transparent pixel is still seen. Images that store colour premultiplied
// (image.RGBA, image.RGBA64) are divided back by their alpha where it is
// not zero.
func FromImage(img image.Image) *RGB {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := &RGB{W: w, H: h, Pix: make([]byte, w*h*3)}
	// copyRows takes R, G and B of each 4-channel pixel of pix, rows
	// stride bytes apart from offset off, step bytes a channel.
	copyRows := func(pix []byte, off, stride, step int) {
		for y := 0; y < h; y++ {
			src := pix[off+y*stride : off+y*stride+4*step*w]
			dst := out.Pix[y*w*3 : (y+1)*w*3]
			for x := 0; x < w; x++ {
				p := src[4*step*x:]
				dst[3*x], dst[3*x+1], dst[3*x+2] = p[0], p[step], p[2*step]
			}
		}
	}
	switch m := img.(type) {
	case *image.NRGBA:
		copyRows(m.Pix, m.PixOffset(b.Min.X, b.Min.Y), m.Stride, 1)
		return out
	case *image.NRGBA64:
		// The high byte of each big-endian 16-bit channel.
		copyRows(m.Pix, m.PixOffset(b.Min.X, b.Min.Y), m.Stride, 2)
		return out
	case *image.RGBA:
		if m.Opaque() {
			copyRows(m.Pix, m.PixOffset(b.Min.X, b.Min.Y), m.Stride, 1)
			return out
		}
	case *image.Paletted:
		// Palette entries keep their colour whatever their alpha.
		pal := make([][3]byte, len(m.Palette))
		for i, c := range m.Palette {
			n := nrgba(c)
			pal[i] = [3]byte{n.R, n.G, n.B}
		}
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			dst := out.Pix[y*w*3 : (y+1)*w*3]
			for x, k := range src {
				if int(k) < len(pal) {
					copy(dst[3*x:3*x+3], pal[k][:])
				}
			}
		}
		return out
	case *image.YCbCr, *image.Gray:
		rgba := image.NewRGBA(b)
		draw.Draw(rgba, b, img, b.Min, draw.Src)
		copyRows(rgba.Pix, 0, rgba.Stride, 1)
		return out
	}
	for y := 0; y < h; y++ {
		dst := out.Pix[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			n := nrgba(img.At(b.Min.X+x, b.Min.Y+y))
			dst[3*x], dst[3*x+1], dst[3*x+2] = n.R, n.G, n.B
		}
	}
	return out
}

// nrgba returns the stored colour of c without its alpha: c itself for
// the non-premultiplied colour types, c divided by its alpha for the
// premultiplied ones (black where alpha is zero, the colour being lost).
func nrgba(c color.Color) color.NRGBA {
	switch c := c.(type) {
	case color.NRGBA:
		return c
	case color.NRGBA64:
		return color.NRGBA{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8), uint8(c.A >> 8)}
	}
	return color.NRGBAModel.Convert(c).(color.NRGBA)
}

// region is a rectangle of whole pixels inside an image.
type region struct{ x, y, w, h int }

// squareResize cuts r out of img, pads it with black to a square (centred,
// or at the bottom/right only) and resizes it to size×size with TF's
// bilinear resize without corner alignment, giving float RGB values in
// [0, 255]: face-api's padToSquare followed by resizeBilinear.
func squareResize(img *RGB, r region, size int, centre bool) []float32 {
	side := max(r.w, r.h)
	pad := side - min(r.w, r.h)
	after := pad
	if centre {
		after = int(math.Floor(float64(pad)*0.5 + 0.5)) // JavaScript Math.round
	}
	before := pad - after
	offX, offY := 0, 0
	if r.h > r.w {
		offX = before
	} else {
		offY = before
	}
	// Source taps along each axis of the padded square: a byte offset into
	// the region's row (or a row index), -1 for padding.
	type tap struct {
		lo, hi int
		t      float32
	}
	taps := func(off, limit, mul int) []tap {
		out := make([]tap, size)
		scale := float32(side) / float32(size)
		for o := range out {
			in := float32(o) * scale
			lo := int(in)
			hi := min(lo+1, side-1)
			out[o] = tap{lo: -1, hi: -1, t: in - float32(lo)}
			if u := lo - off; u >= 0 && u < limit {
				out[o].lo = u * mul
			}
			if u := hi - off; u >= 0 && u < limit {
				out[o].hi = u * mul
			}
		}
		return out
	}
	xs := taps(offX, r.w, 3)
	ys := taps(offY, r.h, 1)
	row := func(v int) []byte {
		if v < 0 {
			return nil
		}
		start := ((r.y+v)*img.W + r.x) * 3
		return img.Pix[start : start+r.w*3]
	}
	out := make([]float32, size*size*3)
	for oy, yt := range ys {
		r0, r1 := row(yt.lo), row(yt.hi)
		ty := yt.t
		dst := out[oy*size*3 : (oy+1)*size*3]
		for ox, xt := range xs {
			tl0, tl1, tl2 := px(r0, xt.lo)
			tr0, tr1, tr2 := px(r0, xt.hi)
			bl0, bl1, bl2 := px(r1, xt.lo)
			br0, br1, br2 := px(r1, xt.hi)
			t := xt.t
			top0, top1, top2 := tl0+(tr0-tl0)*t, tl1+(tr1-tl1)*t, tl2+(tr2-tl2)*t
			bot0, bot1, bot2 := bl0+(br0-bl0)*t, bl1+(br1-bl1)*t, bl2+(br2-bl2)*t
			d := dst[3*ox : 3*ox+3]
			d[0] = top0 + (bot0-top0)*ty
			d[1] = top1 + (bot1-top1)*ty
			d[2] = top2 + (bot2-top2)*ty
		}
	}
	return out
}

// px returns the RGB values at byte offset off of row, or black for a
// padding tap (off < 0) or a padding row (nil).
func px(row []byte, off int) (float32, float32, float32) {
	if off < 0 || row == nil {
		return 0, 0, 0
	}
	p := row[off : off+3]
	return float32(p[0]), float32(p[1]), float32(p[2])
}

// DetectorInput pads img at the bottom or right to a square and resizes it
// to size×size, as face-api feeds TinyFaceDetector.
func DetectorInput(img *RGB, size int) []float32 {
	return squareResize(img, region{0, 0, img.W, img.H}, size, false)
}

// faceRegion turns a detection box into the whole-pixel crop face-api
// takes: clipped to the image, then each of x, y, width, height floored.
// ok is false when nothing of the box is inside the image.
func faceRegion(b Box, w, h int) (region, bool) {
	x := math.Max(b.X, 0)
	y := math.Max(b.Y, 0)
	cw := math.Min(b.Right()-x, float64(w)-x)
	ch := math.Min(b.Bottom()-y, float64(h)-y)
	r := region{int(math.Floor(x)), int(math.Floor(y)), int(math.Floor(cw)), int(math.Floor(ch))}
	if r.w <= 0 || r.h <= 0 || r.x >= w || r.y >= h {
		return region{}, false
	}
	r.w = min(r.w, w-r.x)
	r.h = min(r.h, h-r.y)
	return r, true
}

// ExpressionInput crops box out of img, pads it centred to a square and
// resizes it to 112×112, as face-api feeds FaceExpressionNet. ok is false
// when the box lies outside the image.
func ExpressionInput(img *RGB, box Box) (in []float32, ok bool) {
	r, ok := faceRegion(box, img.W, img.H)
	if !ok {
		return nil, false
	}
	return squareResize(img, r, ExpressionInputSize, true), true
}
