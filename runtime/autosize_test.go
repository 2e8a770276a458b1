package runtime

import "testing"

// TestNextSize is the sizing rule of workers = auto, tick by tick: Little's
// law's target from the pacer, within max_workers, halved by a tick with
// timeouts or 5xx and regrown a tenth of the target per quiet tick.
func TestNextSize(t *testing.T) {
	type tick struct {
		in   sizeInput
		want int
	}
	tests := []struct {
		name  string
		ticks []tick
	}{
		{"follows the target up and down", []tick{
			{sizeInput{cur: 14, want: 80, base: 14, max: 1024}, 80},
			{sizeInput{cur: 80, want: 200, base: 14, max: 1024}, 200},
			{sizeInput{cur: 200, want: 20, base: 14, max: 1024}, 20},
		}},
		{"never above max_workers", []tick{
			{sizeInput{cur: 64, want: 5000, base: 64, max: 300}, 300},
			{sizeInput{cur: 300, want: 5000, base: 64, max: 300}, 300},
		}},
		{"no pacer opinion: the starting size", []tick{
			{sizeInput{cur: 64, want: 0, base: 64, max: 1024, calls: 500}, 64},
			{sizeInput{cur: 10, want: 0, base: 64, max: 1024}, 64},
		}},
		{"small changes are not worth a resize", []tick{
			{sizeInput{cur: 100, want: 103, base: 14, max: 1024}, 100},
			{sizeInput{cur: 100, want: 106, base: 14, max: 1024}, 106},
			{sizeInput{cur: 3, want: 2, base: 3, max: 1024}, 3},
		}},
		{"5xx and timeouts halve, quiet ticks regrow additively", []tick{
			{sizeInput{cur: 200, want: 200, base: 14, max: 1024, calls: 100, errs: 10}, 100},
			{sizeInput{cur: 100, want: 200, base: 14, max: 1024, calls: 100, errs: 20}, 50},
			{sizeInput{cur: 50, want: 200, base: 14, max: 1024, calls: 100}, 70},
			{sizeInput{cur: 70, want: 200, base: 14, max: 1024, calls: 100}, 90},
			{sizeInput{cur: 90, want: 200, base: 14, max: 1024, calls: 100}, 110},
		}},
		{"a stray 5xx below the share is noise", []tick{
			{sizeInput{cur: 200, want: 200, base: 14, max: 1024, calls: 100, errs: 4}, 200},
		}},
		{"back-off stops at one worker", []tick{
			{sizeInput{cur: 2, want: 200, base: 14, max: 1024, calls: 2, errs: 2}, 1},
			{sizeInput{cur: 1, want: 200, base: 14, max: 1024, calls: 1, errs: 1}, 1},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var st sizeState
			for i, tk := range tc.ticks {
				if got := nextSize(&st, tk.in); got != tk.want {
					t.Fatalf("tick %d %+v: size %d, want %d", i, tk.in, got, tk.want)
				}
			}
		})
	}
}
