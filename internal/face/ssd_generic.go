//go:build !amd64 || purego

package face

func relu6(x []float32) { relu6Go(x) }

func biasReLU6(x, bias []float32) { biasReLU6Go(x, bias) }
