package quota

import (
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"
)

// TestPacingEveryEnforcement runs at an RPM limit against each kind of
// server: the run must get at least 98 % of the limit and never be refused.
func TestPacingEveryEnforcement(t *testing.T) {
	for _, mode := range []enforcement{fixedWindow, slidingWindow, gcraBucket} {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				limit := 4000 / simScale()
				res := simulate(t, simConfig{
					limits:  Limits{RPM: limit},
					window:  time.Minute,
					windows: 8,
					workers: 200 / simScale(),
					mode:    mode,
				})
				got := ratio(floats(res.accepted), 1, 8, float64(limit))
				t.Logf("achieved %.4f of the limit, %d calls, %d refused, at most %d in a window", got, res.total, res.rejected, res.maxInWindow)
				if got < 0.98 {
					t.Errorf("achieved %.4f of the limit, want ≥ 0.98", got)
				}
				if res.rejected != 0 {
					t.Errorf("%d calls refused, want 0", res.rejected)
				}
				if res.maxInWindow > limit {
					t.Errorf("%d calls in one window, limit %d", res.maxInWindow, limit)
				}
			})
		})
	}
}

// TestPacingTokens runs TPM-bound with a biased and a noisy token
// estimate: corrections from the counted tokens must keep the run at the
// limit without refusals.
func TestPacingTokens(t *testing.T) {
	estimators := map[string]func(r *rand.Rand) (int, int){
		"bias-10%": func(r *rand.Rand) (int, int) {
			real := 1800 + r.IntN(401)
			return real, int(float64(real) * 0.9)
		},
		"noise±10%": func(r *rand.Rand) (int, int) {
			real := 1800 + r.IntN(401)
			return real, int(float64(real) * (0.9 + 0.2*r.Float64()))
		},
	}
	for name, est := range estimators {
		for _, mode := range []enforcement{fixedWindow, slidingWindow} {
			t.Run(name+"/"+mode.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					const tpm = 1_000_000
					res := simulate(t, simConfig{
						limits:  Limits{RPM: 10_000, TPM: tpm},
						window:  time.Minute,
						windows: 8,
						workers: 100,
						mode:    mode,
						tokens:  est,
					})
					got := ratio(res.tokens, 1, 8, tpm)
					t.Logf("achieved %.4f of TPM, %d calls, %d refused", got, res.total, res.rejected)
					if got < 0.97 {
						t.Errorf("achieved %.4f of TPM, want ≥ 0.97", got)
					}
					if r := per1000(res.rejected, res.total); r > 1 {
						t.Errorf("%.2f refusals per 1000 calls, want ≤ 1", r)
					}
				})
			})
		}
	}
}
