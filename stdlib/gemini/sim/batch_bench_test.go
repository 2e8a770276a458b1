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

// BenchmarkBatchJob measures the server's cost per request of a file
// batch job: the create (parsing the JSONL input) and the run when the
// job ends (generating every reply and the results file), without the
// network. ns/op is per request.
func BenchmarkBatchJob(b *testing.B) {
	const perJob = 1000
	cfg := DefaultConfig()
	cfg.BatchLatency = time.Hour
	clk := newStepClock()
	cfg.Clock = clk
	s, err := Start(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var in bytes.Buffer
	for i := range perJob {
		fmt.Fprintf(&in, `{"key":"item-%d","request":%s}`+"\n", i, benchBody)
	}
	s.files.put(&simFile{id: "input", mimeType: "application/jsonl", source: fileUploaded, data: in.Bytes(), final: true})
	body := []byte(`{"batch":{"inputConfig":{"fileName":"files/input"}}}`)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += perJob {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1beta/models/gemini-2.5-flash:batchGenerateContent", bytes.NewReader(body)))
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
}
