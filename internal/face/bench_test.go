package face

import "testing"

// BenchmarkExpression measures FaceExpressionNet per face; run with
// -cpu 1 for one core. Batch sizes 1 and 8.
func BenchmarkExpression(b *testing.B) {
	_, inputs := readRef(b)
	_, net := nets(b)
	for _, n := range []int{1, 8} {
		batch := make([][]float32, n)
		for i := range batch {
			batch[i] = inputs[i%len(inputs)]
		}
		b.Run(map[int]string{1: "batch1", 8: "batch8"}[n], func(b *testing.B) {
			for b.Loop() {
				if _, err := net.Infer(batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*n), "ms/face")
		})
	}
}

// BenchmarkDetector measures TinyFaceDetector on one 416×416 input.
func BenchmarkDetector(b *testing.B) {
	needRef(b)
	det, _ := nets(b)
	in := readF32(b, refPath(b, "tfd_in.f32"))
	for b.Loop() {
		if _, err := det.Forward(in, 416); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFaces measures the whole pipeline on sample6.jpg (1920×1537,
// five faces): pad and resize, detection, crops, expressions.
func BenchmarkFaces(b *testing.B) {
	needRef(b)
	det, expr := nets(b)
	img, err := DecodeFile(mediaPath(b, "sample6.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	a := &Analyzer{Detector: det, Expressions: expr}
	for b.Loop() {
		if _, err := a.Faces(img); err != nil {
			b.Fatal(err)
		}
	}
}
