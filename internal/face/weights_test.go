package face

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

func TestLoadWeights(t *testing.T) {
	manifest := `[{"paths":["a.bin"],"weights":[
		{"name":"q","shape":[2,2],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":-1}},
		{"name":"f","shape":[2],"dtype":"float32"}]}]`
	bin := []byte{0, 1, 2, 255}
	for _, v := range []float32{1.5, -2.25} {
		bin = binary.LittleEndian.AppendUint32(bin, math.Float32bits(v))
	}
	w, err := LoadWeights([]byte(manifest), bin)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := w["q"].Data, []float32{-1, -0.5, 0, 126.5}; maxDiff(got, want) != 0 {
		t.Errorf("quantized: %v, want %v", got, want)
	}
	if got, want := w["f"].Data, []float32{1.5, -2.25}; maxDiff(got, want) != 0 {
		t.Errorf("float32: %v, want %v", got, want)
	}
	if _, err := take(w, "q", 4); err == nil {
		t.Error("take accepted the wrong shape")
	}

	bad := []struct{ name, manifest, err string }{
		{"short", manifest, "needs"},
		{"dtype", strings.Replace(manifest, `"shape":[2],"dtype":"float32"`, `"shape":[2],"dtype":"int32"`, 1), "not supported"},
		{"quantization", strings.Replace(manifest, `"dtype":"uint8"`, `"dtype":"uint16"`, 1), "not supported"},
		{"shape", strings.Replace(manifest, `[2,2]`, `[2,0]`, 1), "bad shape"},
		{"json", `{`, "manifest"},
	}
	for _, b := range bad {
		data := bin
		if b.name == "short" {
			data = bin[:len(bin)-1]
		}
		if _, err := LoadWeights([]byte(b.manifest), data); err == nil || !strings.Contains(err.Error(), b.err) {
			t.Errorf("%s: %v, want an error containing %q", b.name, err, b.err)
		}
	}
	if _, err := LoadWeights([]byte(manifest), append(bin, 0)); err == nil || !strings.Contains(err.Error(), "describes") {
		t.Errorf("trailing bytes: %v", err)
	}
}
