package sim

import (
	"net/http"
	"unicode/utf8"
)

// sendSSE splits the text into up to three chunks; each carries the usage
// so far, as the real stream does.
func (s *Server) sendSSE(c *call, text, finish string, u usage, id string, truncate bool) {
	w := c.x.w
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	c.x.e.Status = http.StatusOK
	parts := splitText(text, 3)
	if truncate {
		parts = parts[:(len(parts)+1)/2]
	}
	fl, _ := w.(http.Flusher)
	buf := s.getBuf()
	sent := ""
	for i, p := range parts {
		sent += p
		cu := u
		cu.output = textTokens(sent)
		f := ""
		if i == len(parts)-1 && !truncate {
			f = finish
		}
		buf = append(buf[:0], "data: "...)
		buf = appendResponse(buf, p, f, cu, c.model, id)
		buf = append(buf, "\r\n\r\n"...)
		if _, err := w.Write(buf); err != nil {
			break
		}
		if fl != nil {
			fl.Flush()
		}
	}
	s.putBuf(buf)
	if truncate {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
	}
}

func splitText(s string, n int) []string {
	runes := utf8.RuneCountInString(s)
	if runes < n {
		n = max(runes, 1)
	}
	out := make([]string, 0, n)
	per := (runes + n - 1) / n
	for len(s) > 0 {
		cut := len(truncateRunes(s, per))
		out = append(out, s[:cut])
		s = s[cut:]
	}
	if len(out) == 0 {
		out = append(out, "")
	}
	return out
}
