package sim

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"
)

// Quota axes, as reported in the log and in Stats.Rejected.
const (
	AxisRPM  = "rpm"
	AxisTPM  = "tpm"
	AxisRPD  = "rpd"
	AxisBare = "bare" // a bare429 fault: no details
)

// violation is one exceeded limit.
type violation struct {
	axis  string
	limit int
	retry time.Duration
}

// quotas enforces RPM, TPM and RPD per model. Each model has its own lock,
// held only for the admission arithmetic (never across a sleep).
type quotas struct {
	cfg    *Config
	start  time.Time
	day    time.Duration
	models sync.Map         // model -> *modelQuota
	clock  func() time.Time // time.Now; tests step it
}

func newQuotas(cfg *Config, start time.Time) *quotas {
	day := cfg.Day
	if day == 0 {
		day = 1440 * cfg.Window
	}
	return &quotas{cfg: cfg, start: start, day: day, clock: time.Now}
}

func (q *quotas) model(m string) *modelQuota {
	if v, ok := q.models.Load(m); ok {
		return v.(*modelQuota)
	}
	c := q.cfg
	mq := &modelQuota{
		rpm: perModel(c.RPM, m),
		tpm: perModel(c.TPM, m),
		rpd: perModel(c.RPD, m),
	}
	v, _ := q.models.LoadOrStore(m, mq)
	return v.(*modelQuota)
}

// modelQuota holds one model's state for every mode; only the fields of
// the configured mode move.
type modelQuota struct {
	mu            sync.Mutex
	rpm, tpm, rpd int

	// window mode
	win            int64
	winReq, winTok int
	// sliding mode: accepted requests within the last window, oldest first
	log     []stamp
	head    int
	slidTok int
	// bucket mode: theoretical arrival times (GCRA), as offsets from start
	tatReq, tatTok time.Duration
	// every mode
	dayIdx int64
	dayReq int
}

type stamp struct {
	t      time.Duration
	tokens int
}

// admit decides one request of tokens input tokens. It returns when the
// decision was made and the violated limits, none if the request is
// accepted (and counted). The clock is read under the model's lock so the
// sliding log stays in time order.
func (q *quotas) admit(model string, tokens int) (time.Time, []violation) {
	mq := q.model(model)
	if mq.rpm == 0 && mq.tpm == 0 && mq.rpd == 0 {
		return q.clock(), nil
	}
	mq.mu.Lock()
	defer mq.mu.Unlock()
	now := q.clock()
	t := now.Sub(q.start)
	w := q.cfg.Window

	var vs []violation
	switch q.cfg.LimitMode {
	case ModeSliding:
		vs = mq.checkSliding(t, w, tokens)
	case ModeBucket:
		vs = mq.checkBucket(t, w, tokens, q.cfg.Burst)
	default:
		vs = mq.checkWindow(t, w, tokens)
	}
	if d := int64(t / q.day); d != mq.dayIdx {
		mq.dayIdx, mq.dayReq = d, 0
	}
	if mq.rpd > 0 && mq.dayReq+1 > mq.rpd {
		// The real API answers a daily 429 with a short retryDelay ("36s"),
		// not the time to midnight; scaled to the window.
		vs = append(vs, violation{axis: AxisRPD, limit: mq.rpd, retry: w * 36 / 60})
	}
	if len(vs) == 0 || q.cfg.RejectCounts {
		mq.consume(q.cfg.LimitMode, t, w, tokens, q.cfg.Burst)
	}
	return now, vs
}

func (mq *modelQuota) checkWindow(t, w time.Duration, tokens int) []violation {
	if idx := int64(t / w); idx != mq.win {
		mq.win, mq.winReq, mq.winTok = idx, 0, 0
	}
	next := time.Duration(mq.win+1)*w - t
	var vs []violation
	if mq.rpm > 0 && mq.winReq+1 > mq.rpm {
		vs = append(vs, violation{AxisRPM, mq.rpm, next})
	}
	if mq.tpm > 0 && mq.winTok+tokens > mq.tpm {
		vs = append(vs, violation{AxisTPM, mq.tpm, next})
	}
	return vs
}

func (mq *modelQuota) checkSliding(t, w time.Duration, tokens int) []violation {
	// Forget what left the window.
	for mq.head < len(mq.log) && mq.log[mq.head].t <= t-w {
		mq.slidTok -= mq.log[mq.head].tokens
		mq.head++
	}
	if mq.head > 1024 && mq.head*2 > len(mq.log) {
		n := copy(mq.log, mq.log[mq.head:])
		mq.log, mq.head = mq.log[:n], 0
	}
	live := mq.log[mq.head:]
	var vs []violation
	if mq.rpm > 0 && len(live)+1 > mq.rpm {
		// Admitted once enough of the oldest have aged out.
		vs = append(vs, violation{AxisRPM, mq.rpm, live[len(live)-mq.rpm].t + w - t})
	}
	if mq.tpm > 0 && mq.slidTok+tokens > mq.tpm {
		retry := w
		if tokens <= mq.tpm {
			sum := mq.slidTok
			for _, s := range live {
				sum -= s.tokens
				if sum+tokens <= mq.tpm {
					retry = s.t + w - t
					break
				}
			}
		}
		vs = append(vs, violation{AxisTPM, mq.tpm, retry})
	}
	return vs
}

// gcraTau is the bucket's burst tolerance for a limit: burst units, at
// least one, each worth w/limit.
func gcraTau(w time.Duration, limit int, burst float64) (per, tau time.Duration) {
	per = w / time.Duration(limit)
	b := math.Max(1, math.Floor(burst*float64(limit)))
	return per, time.Duration(b-1) * per
}

func (mq *modelQuota) checkBucket(t, w time.Duration, tokens int, burst float64) []violation {
	var vs []violation
	if mq.rpm > 0 {
		_, tau := gcraTau(w, mq.rpm, burst)
		if tat := max(mq.tatReq, t); tat-t > tau {
			vs = append(vs, violation{AxisRPM, mq.rpm, tat - tau - t})
		}
	}
	if mq.tpm > 0 {
		_, tau := gcraTau(w, mq.tpm, burst)
		// A request bigger than the burst still gets in once the bucket is
		// full; its cost is paid by what follows.
		if tat := max(mq.tatTok, t); tat-t > tau {
			vs = append(vs, violation{AxisTPM, mq.tpm, tat - tau - t})
		}
	}
	return vs
}

func (mq *modelQuota) consume(mode string, t, w time.Duration, tokens int, burst float64) {
	mq.dayReq++
	switch mode {
	case ModeSliding:
		mq.log = append(mq.log, stamp{t, tokens})
		mq.slidTok += tokens
	case ModeBucket:
		if mq.rpm > 0 {
			per, _ := gcraTau(w, mq.rpm, burst)
			mq.tatReq = max(mq.tatReq, t) + per
		}
		if mq.tpm > 0 {
			per := float64(w) / float64(mq.tpm)
			mq.tatTok = max(mq.tatTok, t) + time.Duration(per*float64(tokens))
		}
	default:
		mq.winReq++
		mq.winTok += tokens
	}
}

// Quota ids and metrics as the real API names them (paid tier 1).
var quotaNames = map[string][2]string{
	AxisRPM: {"GenerateRequestsPerMinutePerProjectPerModel", "generativelanguage.googleapis.com/generate_requests_per_model"},
	AxisTPM: {"GenerateContentPaidTierInputTokensPerModelPerMinute-PaidTier1", "generativelanguage.googleapis.com/generate_content_paid_tier_input_token_count"},
	AxisRPD: {"GenerateRequestsPerDayPerProjectPerModel", "generativelanguage.googleapis.com/generate_requests_per_model_per_day"},
}

const rateLimitsURL = "https://ai.google.dev/gemini-api/docs/rate-limits"

// errQuota builds the real 429 body for the violated limits. retryDelay is
// the longest wait any of them asks for.
func errQuota(model string, vs []violation) *apiErr {
	var retry time.Duration
	viol := make([]map[string]any, 0, len(vs))
	msg := "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: " + rateLimitsURL + "."
	for _, v := range vs {
		names := quotaNames[v.axis]
		viol = append(viol, map[string]any{
			"quotaMetric":     names[1],
			"quotaId":         names[0],
			"quotaDimensions": map[string]string{"location": "global", "model": model},
			"quotaValue":      strconv.Itoa(v.limit),
		})
		msg += fmt.Sprintf("\n* Quota exceeded for metric: %s, limit: %d, model: %s", names[1], v.limit, model)
		retry = max(retry, v.retry)
	}
	delay := protoDuration(retry)
	msg += "\nPlease retry in " + delay + "."
	e := newAPIErr(429, msg, "quota")
	e.Details = []map[string]any{
		{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": viol},
		{"@type": "type.googleapis.com/google.rpc.Help", "links": []map[string]string{{"description": "Learn more about Gemini API quotas", "url": rateLimitsURL}}},
		{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
	}
	return e
}

// protoDuration formats d as a protobuf Duration string, rounded up to the
// millisecond so that waiting exactly that long is enough: "17s", "0.250s".
func protoDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms%1000 == 0 {
		return strconv.FormatInt(int64(ms/1000), 10) + "s"
	}
	return fmt.Sprintf("%d.%03ds", ms/1000, ms%1000)
}
