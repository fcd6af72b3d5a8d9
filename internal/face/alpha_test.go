package face

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFromImageIgnoresAlpha checks that every image type gives its stored
// colour whatever its alpha, as an opaque image of the same colours would.
func TestFromImageIgnoresAlpha(t *testing.T) {
	want := &RGB{W: 2, H: 1, Pix: []byte{200, 100, 50, 10, 20, 30}}
	nrgba := func(a uint8) image.Image {
		m := image.NewNRGBA(image.Rect(0, 0, 2, 1))
		m.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, a})
		m.SetNRGBA(1, 0, color.NRGBA{10, 20, 30, a})
		return m
	}
	nrgba64 := func(a uint16) image.Image {
		m := image.NewNRGBA64(image.Rect(0, 0, 2, 1))
		m.SetNRGBA64(0, 0, color.NRGBA64{200 << 8, 100 << 8, 50 << 8, a})
		m.SetNRGBA64(1, 0, color.NRGBA64{10<<8 | 0xff, 20 << 8, 30 << 8, a})
		return m
	}
	paletted := func(a uint8) image.Image {
		m := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{
			color.NRGBA{10, 20, 30, a}, color.NRGBA{200, 100, 50, a},
		})
		m.SetColorIndex(0, 0, 1)
		m.SetColorIndex(1, 0, 0)
		return m
	}
	// A sub-image starting at (1, 1) of a larger NRGBA.
	sub := image.NewNRGBA(image.Rect(0, 0, 4, 3))
	sub.SetNRGBA(1, 1, color.NRGBA{200, 100, 50, 0})
	sub.SetNRGBA(2, 1, color.NRGBA{10, 20, 30, 0})
	opaque := image.NewRGBA(image.Rect(0, 0, 2, 1))
	draw.Draw(opaque, opaque.Bounds(), nrgba(255), image.Point{}, draw.Src)
	// Premultiplied colour at alpha 128 is divided back.
	half := image.NewRGBA(image.Rect(0, 0, 2, 1))
	half.SetRGBA(0, 0, color.RGBA{100, 50, 25, 128})
	half.SetRGBA(1, 0, color.RGBA{5, 10, 15, 128})
	halfWant := &RGB{W: 2, H: 1, Pix: nrgbaPix(half)}

	tests := []struct {
		name string
		img  image.Image
		want *RGB
	}{
		{"nrgba opaque", nrgba(255), want},
		{"nrgba alpha 50 %", nrgba(128), want},
		{"nrgba transparent", nrgba(0), want},
		{"nrgba sub-image transparent", sub.SubImage(image.Rect(1, 1, 3, 2)), want},
		{"nrgba64 transparent", nrgba64(0), want},
		{"nrgba64 alpha 50 %", nrgba64(0x8000), want},
		{"paletted transparent", paletted(0), want},
		{"paletted alpha 50 %", paletted(128), want},
		{"rgba opaque", opaque, want},
		{"rgba alpha 50 %", half, halfWant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, FromImage(tt.img)); diff != "" {
				t.Errorf("FromImage (-want +got):\n%s", diff)
			}
		})
	}
}

// nrgbaPix is the colour of m's pixels un-premultiplied, as the colour
// package computes it.
func nrgbaPix(m image.Image) []byte {
	var out []byte
	b := m.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
			out = append(out, c.R, c.G, c.B)
		}
	}
	return out
}

// withAlpha writes a PNG copy of img with every pixel's alpha set to a.
func withAlpha(t *testing.T, img *RGB, a uint8, path string) {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, img.W, img.H))
	for i := 0; i < img.W*img.H; i++ {
		copy(m.Pix[4*i:4*i+3], img.Pix[3*i:3*i+3])
		m.Pix[4*i+3] = a
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDecodeFileAlpha makes transparent and half-transparent PNG copies of
// a sample photo: they read as the same pixels, and give the same faces
// and expressions, as the opaque photo.
func TestDecodeFileAlpha(t *testing.T) {
	photo, err := DecodeFile(mediaPath(t, "sample1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	imgs := map[string]*RGB{}
	for _, c := range []struct {
		name  string
		alpha uint8
	}{{"opaque", 255}, {"alpha 50 %", 128}, {"transparent", 0}} {
		p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "")+".png")
		withAlpha(t, photo, c.alpha, p)
		img, err := DecodeFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(img.Pix, photo.Pix) || img.W != photo.W || img.H != photo.H {
			t.Errorf("%s: the PNG copy does not read as the photo's pixels", c.name)
		}
		imgs[c.name] = img
	}
	det, expr := nets(t)
	a := &Analyzer{Detector: det, Expressions: expr}
	want, err := a.Faces(photo)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 3 {
		t.Fatalf("sample1.jpg: %d faces, want 3", len(want))
	}
	for name, img := range imgs {
		t.Run(name, func(t *testing.T) {
			got, err := a.Faces(img)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("faces differ from the opaque photo's (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeFileErrors checks that each kind of bad file is named and
// explained.
func TestDecodeFileErrors(t *testing.T) {
	dir := t.TempDir()
	src := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for i := range src.Pix {
		src.Pix[i] = byte(i * 13)
	}
	var jpg, pngData bytes.Buffer
	if err := jpeg.Encode(&jpg, src, nil); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&pngData, src); err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(pngData.Bytes())
	corrupt[len(corrupt)/2] ^= 0xff // breaks the image data's checksum
	files := map[string][]byte{
		"empty.jpg":        {},
		"text.png":         []byte("not a picture\n"),
		"truncated.jpg":    jpg.Bytes()[:jpg.Len()/2],
		"header-only.jpg":  jpg.Bytes()[:20],
		"truncated.png":    pngData.Bytes()[:pngData.Len()/2],
		"corrupt.png":      corrupt,
		"good.jpg":         jpg.Bytes(),
		"folder.jpg/x.jpg": jpg.Bytes(),
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		file string
		want string // "" for no error
	}{
		{"good.jpg", ""},
		{"folder.jpg", "is a directory"},
		{"empty.jpg", "is empty (0 bytes)"},
		{"text.png", "not a JPEG or PNG image"},
		{"truncated.jpg", "the JPEG image is truncated or corrupt"},
		{"header-only.jpg", "the JPEG image is truncated or corrupt"},
		{"truncated.png", "the PNG image is truncated or corrupt"},
		{"corrupt.png", "the PNG image is truncated or corrupt"},
		{"missing.jpg", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := filepath.Join(dir, tt.file)
			_, err := DecodeFile(p)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want == "":
			case err == nil:
				t.Fatalf("no error, want %q", tt.want)
			case !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p):
				t.Errorf("error %q, want one naming %s and saying %q", err, p, tt.want)
			}
		})
	}
}
