package sim

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkBatchJob measures the server's cost per request of a batch job:
// the create (parsing the inline requests or the JSONL input file) and the
// run when the job ends (generating every reply and the results), without
// the network. ns/op is per request.
func BenchmarkBatchJob(b *testing.B) {
	const perJob = 1000
	var lines, inline bytes.Buffer
	inline.WriteString(`{"batch":{"displayName":"bench","inputConfig":{"requests":{"requests":[`)
	for i := range perJob {
		fmt.Fprintf(&lines, `{"key":"item-%d","request":%s}`+"\n", i, benchBody)
		if i > 0 {
			inline.WriteByte(',')
		}
		fmt.Fprintf(&inline, `{"metadata":{"key":"item-%d"},"request":%s}`, i, benchBody)
	}
	inline.WriteString(`]}}}}`)
	for _, bc := range []struct{ name, body string }{
		{"file", `{"batch":{"inputConfig":{"fileName":"files/input"}}}`},
		{"inline", inline.String()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.BatchLatency = time.Hour
			clk := newStepClock()
			cfg.Clock = clk
			s, err := Start(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			s.files.put(&simFile{id: "input", mimeType: "application/jsonl", source: fileUploaded, data: lines.Bytes(), final: true})
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += perJob {
				w := httptest.NewRecorder()
				s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1beta/models/gemini-2.5-flash:batchGenerateContent", bytes.NewReader([]byte(bc.body))))
				if w.Code != 200 {
					b.Fatalf("create: %d %s", w.Code, w.Body)
				}
				clk.step(2 * time.Hour)
				s.advanceAll()
			}
			b.StopTimer()
			if st := s.Stats().Batch; st.Requests < int64(b.N) {
				b.Fatalf("ran %d requests for b.N %d", st.Requests, b.N)
			}
		})
	}
}
