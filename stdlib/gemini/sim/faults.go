package sim

import (
	"net"
	"net/http"
	"strconv"
	"time"
)

// fault answers with an injected failure. Server errors arrive after the
// usual latency, as real ones do; bare429 at once.
func (s *Server) fault(c *call, kind string, lat time.Duration) {
	x := c.x
	x.e.Kind = "fault:" + kind
	s.st.count(func(st *Stats) map[string]int64 { return st.Faults }, kind)
	if c.batch {
		// Inside a job there is no connection to hold or break: the
		// request ends with the error the front end would have logged.
		switch kind {
		case FaultHang:
			kind = Fault504
		case FaultReset, FaultTruncate:
			kind = Fault500
		}
	}
	switch kind {
	case FaultBare429:
		s.st.rejected(c.model, []string{AxisBare})
		x.fail(newAPIErr(429, "Resource has been exhausted (e.g. check quota).", ""))
		return
	case FaultHang:
		// Hold until the client gives up, the server closes or HangMax.
		if s.sleep(x.r.Context(), s.cfg.HangMax) || x.r.Context().Err() == nil {
			x.fail(newAPIErr(504, "", ""))
			return
		}
		x.e.Status = 499
		return
	case FaultReset:
		s.reset(x)
		return
	}
	if !s.sleep(x.r.Context(), lat) {
		s.interrupted(c)
		return
	}
	switch kind {
	case Fault500:
		x.fail(newAPIErr(500, "", ""))
	case Fault503:
		x.fail(newAPIErr(503, "", ""))
	case Fault504:
		x.fail(newAPIErr(504, "", ""))
	case FaultTruncate:
		text, finish := s.reply(c)
		x.e.Kind = "fault:" + kind // reply may have labelled it invalid
		s.succeed(c, text, finish, true)
	}
}

// reset closes the connection without a response; SO_LINGER 0 makes the
// kernel send RST, as a crashed front end would.
func (s *Server) reset(x *exchange) {
	x.e.Status = 0
	hj, ok := x.w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) //nolint:errcheck // best effort: a FIN works too
	}
	conn.Close()
}

// truncate sends a valid status line and headers announcing the full
// length, then half the body, then closes.
func (s *Server) truncate(x *exchange, body []byte) {
	x.e.Status = http.StatusOK
	hj, ok := x.w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, bw, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: ")
	bw.WriteString(strconv.Itoa(len(body)))
	bw.WriteString("\r\n\r\n")
	bw.Write(body[:len(body)/2])
	bw.Flush() //nolint:errcheck // the point is a broken reply
}

// scripted answers with a script line.
func (s *Server) scripted(c *call, l *ScriptLine) {
	x := c.x
	x.e.Kind = "script"
	d := time.Duration(l.Delay)
	if d == 0 {
		d = latency(&s.cfg, c.fr, time.Since(s.start))
	}
	if c.batch {
		d = 0
	}
	if l.Fault != "" {
		s.fault(c, l.Fault, d)
		x.e.Kind = "script:" + x.e.Kind
		return
	}
	if !s.sleep(x.r.Context(), d) {
		s.interrupted(c)
		return
	}
	if l.Status != 0 {
		e := newAPIErr(l.Status, l.Message, "script")
		if l.Status == 429 && (l.RetryDelay != 0 || l.QuotaID != "") {
			id := l.QuotaID
			if id == "" {
				id = quotaNames[AxisRPM][0]
			}
			e.Details = []map[string]any{
				{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []map[string]any{{
					"quotaMetric":     "generativelanguage.googleapis.com/generate_content_requests",
					"quotaId":         id,
					"quotaDimensions": map[string]string{"location": "global", "model": c.model},
				}}},
				{"@type": "type.googleapis.com/google.rpc.Help", "links": []map[string]string{{"description": "Learn more about Gemini API quotas", "url": rateLimitsURL}}},
			}
			if l.RetryDelay != 0 {
				e.Details = append(e.Details, map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": protoDuration(time.Duration(l.RetryDelay))})
			}
		}
		x.fail(e)
		return
	}
	s.succeed(c, l.Text, "STOP", false)
}
