package main

import (
	"math"
	"slices"
)

// setPercentiles fills r's latency fields from lat (nanoseconds); lat is
// sorted in place.
func setPercentiles(r *Result, lat []int64) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	r.P50 = us(percentile(lat, 0.50))
	r.P90 = us(percentile(lat, 0.90))
	r.P99 = us(percentile(lat, 0.99))
	r.P999 = us(percentile(lat, 0.999))
	r.Max = us(lat[len(lat)-1])
}

// percentile returns the nearest-rank q-quantile of sorted.
func percentile(sorted []int64, q float64) int64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func us(ns int64) float64 { return float64(ns) / 1e3 }

// median returns the median of xs (the mean of the middle two for an
// even count), or 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Summary is the median over repetitions of one case on one library.
type Summary struct {
	Case     string  `json:"case"`
	Lib      string  `json:"lib"`
	Mode     string  `json:"mode"`
	Reps     int     `json:"reps"`
	OpsSec   float64 `json:"ops_per_sec"`
	MBSec    float64 `json:"mb_per_sec"`
	P50      float64 `json:"p50_us,omitempty"`
	P90      float64 `json:"p90_us,omitempty"`
	P99      float64 `json:"p99_us,omitempty"`
	P999     float64 `json:"p999_us,omitempty"`
	AllocsOp float64 `json:"allocs_per_op"`
	HeapMiB  float64 `json:"heap_mib,omitempty"`
	OpenMs   float64 `json:"open_ms,omitempty"`
	// MinPrimary and MaxPrimary bound the primary metric over the reps.
	MinPrimary float64 `json:"min_primary"`
	MaxPrimary float64 `json:"max_primary"`
	Err        string  `json:"error,omitempty"`
}

// summarize takes the median of every metric over rs (one case, one lib).
func summarize(rs []Result, primary func(Result) float64) Summary {
	s := Summary{Case: rs[0].Case, Lib: rs[0].Lib, Mode: rs[0].Mode}
	var ok []Result
	for _, r := range rs {
		if r.Err != "" {
			s.Err = r.Err
			continue
		}
		ok = append(ok, r)
	}
	s.Reps = len(ok)
	if len(ok) == 0 {
		return s
	}
	med := func(f func(Result) float64) float64 {
		xs := make([]float64, len(ok))
		for i, r := range ok {
			xs[i] = f(r)
		}
		return median(xs)
	}
	s.OpsSec = med(func(r Result) float64 { return r.OpsSec })
	s.MBSec = med(func(r Result) float64 { return r.MBSec })
	s.P50 = med(func(r Result) float64 { return r.P50 })
	s.P90 = med(func(r Result) float64 { return r.P90 })
	s.P99 = med(func(r Result) float64 { return r.P99 })
	s.P999 = med(func(r Result) float64 { return r.P999 })
	s.AllocsOp = med(func(r Result) float64 { return r.AllocsOp })
	s.HeapMiB = med(func(r Result) float64 { return r.HeapMiB })
	s.OpenMs = med(func(r Result) float64 { return r.OpenMs })
	s.MinPrimary, s.MaxPrimary = math.Inf(1), math.Inf(-1)
	for _, r := range ok {
		v := primary(r)
		s.MinPrimary, s.MaxPrimary = min(s.MinPrimary, v), max(s.MaxPrimary, v)
	}
	return s
}
