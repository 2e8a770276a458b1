package bench

import (
	"math"
	"testing"
	"time"

	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

func wc(reqs ...int64) []sim.WindowCount {
	out := make([]sim.WindowCount, len(reqs))
	for i, r := range reqs {
		out[i] = sim.WindowCount{Requests: r, Tokens: 10 * r}
	}
	return out
}

func TestInterior(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ws      []sim.WindowCount
		tokens  bool
		windows int
		mean    float64
		max     float64
	}{
		{"first and last dropped", wc(5, 100, 98, 30), false, 2, 99, 100},
		{"idle start skipped", wc(0, 0, 7, 90, 96, 1), false, 2, 93, 96},
		{"tokens", wc(1, 100, 98, 30), true, 2, 990, 1000},
		{"too short", wc(3, 100), false, 0, math.NaN(), 100},
		{"nothing", nil, false, 0, math.NaN(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := interior(tc.ws, tc.tokens)
			if got.Windows != tc.windows || got.Max != tc.max {
				t.Errorf("got %+v, want %d windows, max %v", got, tc.windows, tc.max)
			}
			if math.IsNaN(tc.mean) != math.IsNaN(got.Mean) || (!math.IsNaN(tc.mean) && got.Mean != tc.mean) {
				t.Errorf("mean %v, want %v", got.Mean, tc.mean)
			}
		})
	}
}

func TestDuplicates(t *testing.T) {
	log := []sim.LogEntry{
		{Item: "a", Status: 200},
		{Item: "b", Status: 503, Kind: "fault:503"},
		{Item: "b", Status: 200},
		{Item: "c", Status: 200, Kind: "fault:truncate"}, // not a success
		{Item: "c", Status: 200},
		{Item: "d", Status: 200},
		{Item: "d", Status: 200}, // paid twice
		{Item: "d", Status: 200},
	}
	if got := duplicates(log); got != 2 {
		t.Errorf("duplicates = %d, want 2", got)
	}
}

func TestCallsAfterFirst429(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	log := []sim.LogEntry{
		{Model: "m", Time: at(0), Status: 200},
		{Model: "m", Time: at(5), Status: 429, Kind: "quota:rpm"},
		{Model: "m", Time: at(10), Status: 429, Kind: "quota:rpd"},
		{Model: "x", Time: at(11), Status: 200},
		{Model: "m", Time: at(12), Status: 200},
		{Model: "m", Time: at(13), Status: 429, Kind: "quota:rpd"},
	}
	if got := callsAfterFirst429(log, "m", "rpd"); got != 2 {
		t.Errorf("got %d, want 2", got)
	}
	if got := callsAfterFirst429(log, "x", "rpd"); got != -1 {
		t.Errorf("no 429: got %d, want -1", got)
	}
}

func TestAddedLatency(t *testing.T) {
	log := []sim.LogEntry{
		{Item: "a", Model: "m", Call: 1, Status: 429},
		{Item: "a", Model: "m", Call: 2, Status: 200, LatencyMS: 10},
		{Item: "b", Model: "m", Call: 1, Status: 200, LatencyMS: 20},
		{Item: "c", Model: "m", Call: 1, Status: 200, LatencyMS: 5}, // the client never timed it
	}
	calls := map[string][]time.Duration{
		callKey("a", "m"): {time.Millisecond, 13 * time.Millisecond},
		callKey("b", "m"): {21 * time.Millisecond},
	}
	got := addedLatency(log, calls, 0.5, 1)
	if math.Abs(got[0]-1) > 1e-9 || math.Abs(got[1]-3) > 1e-9 {
		t.Errorf("got %v, want [1 3]", got)
	}
}

func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		f    Figure
		want string
	}{
		{Figure{Value: 98.5, Excellent: AtLeast(98), Acceptable: AtLeast(97)}, VerdictExcellent},
		{Figure{Value: 97.5, Excellent: AtLeast(98), Acceptable: AtLeast(97)}, VerdictAcceptable},
		{Figure{Value: 96, Excellent: AtLeast(98), Acceptable: AtLeast(97)}, VerdictMissed},
		{Figure{Value: 3, Excellent: AtMost(1), Acceptable: AtMost(10)}, VerdictAcceptable},
		{Figure{Value: 101, Excellent: AtMost(100)}, VerdictMissed},
		{Figure{Value: 100, Excellent: AtMost(100)}, VerdictExcellent},
		{Figure{Value: math.NaN(), Excellent: AtMost(5), Acceptable: AtMost(20)}, VerdictMissed},
		{Figure{Value: 7}, VerdictInfo},
	} {
		tc.f.judge()
		if tc.f.Verdict != tc.want {
			t.Errorf("%+v: verdict %s, want %s", tc.f, tc.f.Verdict, tc.want)
		}
	}
}

func TestResize(t *testing.T) {
	for _, tc := range []struct {
		s    string
		f    float64
		want int
	}{
		{"abcdefghij", 0.5, 5},
		{"abcdefghij", 1, 10},
		{"abcdefghij", 2.05, 20},
		{"", 2, 0},
	} {
		if got := len(resize(tc.s, tc.f)); got != tc.want {
			t.Errorf("resize(%q, %v) has length %d, want %d", tc.s, tc.f, got, tc.want)
		}
	}
}
