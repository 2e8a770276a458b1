package sim

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

const benchBody = `{"contents":[{"role":"user","parts":[{"text":"Extract the person: Maria Lopez, 34, maria.lopez@example.org. She enjoys hiking."}]}],` +
	`"generationConfig":{"responseMimeType":"application/json","responseSchema":{"type":"OBJECT","required":["name","age"],` +
	`"properties":{"name":{"type":"STRING"},"age":{"type":"INTEGER"},"sentiment":{"type":"STRING","enum":["positive","negative"]}}}}}`

// BenchmarkHandler measures the server's own cost per generate request,
// without the network.
func BenchmarkHandler(b *testing.B) {
	cfg := DefaultConfig()
	cfg.RPM = map[string]int{"*": 1 << 30}
	s, err := Start(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	body := []byte(benchBody)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			req := httptest.NewRequest(http.MethodPost, "/v1beta/models/gemini-2.5-flash:generateContent", bytes.NewReader(body))
			req.Header.Set("X-Llmpipe-Item", "item")
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkLoopback measures a full request over loopback HTTP.
func BenchmarkLoopback(b *testing.B) {
	s, err := Start(context.Background(), DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	url := s.URL() + "v1beta/models/gemini-2.5-flash:generateContent"
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Post(url, "application/json", bytes.NewReader([]byte(benchBody)))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
