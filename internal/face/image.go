package face

import (
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // JPEG decoder for DecodeFile
	_ "image/png"  // PNG decoder for DecodeFile
	"math"
	"os"
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

// DecodeFile reads a JPEG or PNG file into RGB. Alpha is dropped.
func DecodeFile(path string) (*RGB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("%s: not a JPEG or PNG image: %w", path, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPixels {
		return nil, fmt.Errorf("%s: %s image of %dx%d pixels is out of range", path, format, cfg.Width, cfg.Height)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: decoding %s: %w", path, format, err)
	}
	return FromImage(img), nil
}

// FromImage converts any image to RGB.
func FromImage(img image.Image) *RGB {
	b := img.Bounds()
	out := &RGB{W: b.Dx(), H: b.Dy(), Pix: make([]byte, b.Dx()*b.Dy()*3)}
	var rgba *image.RGBA
	switch m := img.(type) {
	case *image.RGBA:
		rgba = m
	case *image.YCbCr, *image.Gray:
		rgba = image.NewRGBA(b)
		draw.Draw(rgba, b, img, b.Min, draw.Src)
	default:
		rgba = image.NewRGBA(b)
		draw.Draw(rgba, b, img, b.Min, draw.Src)
	}
	for y := 0; y < out.H; y++ {
		src := rgba.Pix[y*rgba.Stride : y*rgba.Stride+4*out.W]
		dst := out.Pix[y*out.W*3 : (y+1)*out.W*3]
		for x := 0; x < out.W; x++ {
			dst[3*x], dst[3*x+1], dst[3*x+2] = src[4*x], src[4*x+1], src[4*x+2]
		}
	}
	return out
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
