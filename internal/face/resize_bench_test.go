package face

import "testing"

// BenchmarkDetectorInput measures padding and resizing a 1280×720 frame to
// the detector's 416×416 input.
func BenchmarkDetectorInput(b *testing.B) {
	img := &RGB{W: 1280, H: 720, Pix: make([]byte, 1280*720*3)}
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	for b.Loop() {
		DetectorInput(img, 416)
	}
}
