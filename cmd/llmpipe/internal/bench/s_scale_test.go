package bench

import (
	"context"
	"os"
	"testing"
	"time"
)

// S8 judges peak RSS with the store on against 300 MB and reports the
// store file's size per item.
func TestS8Figures(t *testing.T) {
	const n = 1000
	on := &runOut{PeakRSS: 350 << 20, BaseRSS: 50 << 20, Written: n, StoreBytes: 300 * n, Elapsed: time.Second}
	off := &runOut{PeakRSS: 40 << 20, BaseRSS: 30 << 20, Written: n, Elapsed: time.Second / 2}
	r := &Result{}
	s8Figures(r, n, on, off)
	got := map[string]Figure{}
	for _, f := range r.Figures {
		got[f.Name] = f
	}
	for _, tc := range []struct {
		name    string
		value   float64
		verdict string
	}{
		{"peak RSS (client, store on)", 350, VerdictMissed},
		{"RSS growth per item (store on)", 300 << 20 / float64(n), VerdictMissed},
		{"store size per item", 300, VerdictExcellent},
		{"items lost (store on)", 0, VerdictExcellent},
		{"throughput (store on)", n, VerdictInfo},
		{"peak RSS (client, no store)", 40, VerdictExcellent},
		{"throughput (no store)", 2 * n, VerdictInfo},
	} {
		f, ok := got[tc.name]
		if !ok {
			t.Errorf("no figure %q in %+v", tc.name, r.Figures)
			continue
		}
		if f.Value != tc.value || f.Verdict != tc.verdict {
			t.Errorf("%s = %v (%s), want %v (%s)", tc.name, f.Value, f.Verdict, tc.value, tc.verdict)
		}
	}
}

// S8's store-on run measures a real store file and removes it afterwards.
func TestThroughputWithStore(t *testing.T) {
	dir := t.TempDir()
	e := &Env{Window: time.Second, Seed: 1, Scale: 1, Dir: dir}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const n = 500
	o, err := e.throughput(ctx, "S8 store on", n, 0, true, instant{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Written != n || o.StoreBytes <= 0 || o.PeakRSS <= 0 {
		t.Errorf("written %d, store %d B, peak RSS %d B; want %d written, a store and a peak", o.Written, o.StoreBytes, o.PeakRSS, n)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Errorf("the run left %d entries in %s; want none", len(left), dir)
	}
}
