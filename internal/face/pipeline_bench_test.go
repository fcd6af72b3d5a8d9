package face

import "testing"

// BenchmarkLandmarks measures the landmark nets per face on one 112×112
// crop at a time, as the analyzer runs them; run with -cpu 1 for one core.
func BenchmarkLandmarks(b *testing.B) {
	ref := readLandmarkRef(b)
	full, tiny, _ := moreNets(b)
	for _, bc := range []struct {
		name string
		net  *LandmarkNet
	}{{"net", full}, {"tiny", tiny}} {
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := bc.net.Forward([][]float32{ref.Crops[i%len(ref.Crops)].input}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkSSD measures SsdMobilenetv1 on one 512×512 frame: the network
// with its box decoding (forward), and whole detection on sample6.jpg
// (1920×1537: pad and resize, network, NMS).
func BenchmarkSSD(b *testing.B) {
	_, _, ssd := moreNets(b)
	img, err := DecodeFile(mediaPath(b, "sample6.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	in := DetectorInput(img, SSDInputSize)
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			if _, err := ssd.Forward(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("detect", func(b *testing.B) {
		for b.Loop() {
			if _, err := ssd.Detect(img, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPipelines measures Analyzer.Faces on sample6.jpg (five faces)
// with landmarks: the tiny detector and the SSD one, each with
// FaceLandmark68Net and the expression net.
func BenchmarkPipelines(b *testing.B) {
	det, expr := nets(b)
	full, _, ssd := moreNets(b)
	img, err := DecodeFile(mediaPath(b, "sample6.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		a    *Analyzer
	}{
		{"tiny+net", &Analyzer{Detector: det, Expressions: expr, Landmarks: full, Options: Options{Detector: DetectorTiny}}},
		{"ssd+net", &Analyzer{SSD: ssd, Expressions: expr, Landmarks: full, Options: Options{Detector: DetectorSSD}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := bc.a.Faces(img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
