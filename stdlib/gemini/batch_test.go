package gemini

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
)

// A results file mixes responses and per-request errors; each error is
// classified like the online reply with the same status.
func TestReadResultLines(t *testing.T) {
	file := `{"key":"a","response":{"candidates":[{"content":{"parts":[{"text":"{\"x\":1}"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":4,"cachedContentTokenCount":2,"thoughtsTokenCount":3}}}
{"key":"b","error":{"code":13,"message":"internal"}}

{"key":"c","error":{"code":3,"message":"bad request"}}
{"key":"d","error":{"code":8,"message":"quota"}}
{"key":"e","response":{"candidates":[{"finishReason":"SAFETY"}]}}`
	res, err := readResultLines(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 5 {
		t.Fatalf("got %d results", len(res))
	}
	a := res[0]
	if a.Key != "a" || a.Err != nil || a.Resp.Text != `{"x":1}` ||
		a.Resp.Usage != (runtime.Usage{PromptTokens: 10, OutputTokens: 4, CachedTokens: 2, ThinkingTokens: 3}) {
		t.Fatalf("a = %+v %+v", a, a.Resp)
	}
	want := map[string]runtime.Class{"b": runtime.ClassTransient, "c": runtime.ClassFatal, "d": runtime.ClassTransient, "e": runtime.ClassFatal}
	for _, r := range res[1:] {
		var pe *runtime.Error
		if !errors.As(r.Err, &pe) || pe.Class != want[r.Key] {
			t.Errorf("%s: err %v, want class %v", r.Key, r.Err, want[r.Key])
		}
	}
	if res[3].Index != 3 {
		t.Errorf("index = %d", res[3].Index)
	}
}

// The inline create body is the REST shape of reference §2, keyed by
// metadata.key, with each request exactly as generateContent sends it.
func TestInlineCreateBody(t *testing.T) {
	var sc schemaCache
	req := &runtime.Request{Model: "gemini-2.5-flash", Prompt: "hi", System: "sys", MaxOutputTokens: 100}
	rb, err := encodeRequest(req, &sc)
	if err != nil {
		t.Fatal(err)
	}
	body := inlineCreateBody(&runtime.BatchJobSpec{DisplayName: "llmpipe-p-1-1", Keys: []string{"k\"1"}}, [][]byte{[]byte(strings.TrimSpace(string(rb)))})
	var got struct {
		Batch struct {
			DisplayName string `json:"displayName"`
			InputConfig struct {
				Requests struct {
					Requests []struct {
						Metadata map[string]string `json:"metadata"`
						Request  json.RawMessage   `json:"request"`
					} `json:"requests"`
				} `json:"requests"`
			} `json:"inputConfig"`
		} `json:"batch"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	rs := got.Batch.InputConfig.Requests.Requests
	if got.Batch.DisplayName != "llmpipe-p-1-1" || len(rs) != 1 || rs[0].Metadata["key"] != "k\"1" || string(rs[0].Request) != strings.TrimSpace(string(rb)) {
		t.Fatalf("body = %s", body)
	}
}

func TestBatchStatusMapping(t *testing.T) {
	raw := `{"name":"batches/x","done":true,"metadata":{"model":"models/gemini-2.5-flash","displayName":"d","state":"BATCH_STATE_SUCCEEDED",
	  "createTime":"2026-01-02T03:04:05Z","batchStats":{"requestCount":"3","successfulRequestCount":"2","failedRequestCount":"1"},
	  "output":{"responsesFile":"files/batch-x"}}}`
	var op wireOperation
	if err := json.Unmarshal([]byte(raw), &op); err != nil {
		t.Fatal(err)
	}
	st := op.status()
	if st.Name != "batches/x" || st.Model != "gemini-2.5-flash" || st.State != runtime.BatchSucceeded || st.Total != 3 ||
		st.Succeeded != 2 || st.Failed != 1 || st.Created.IsZero() || op.output().ResponsesFile != "files/batch-x" {
		t.Fatalf("status = %+v", st)
	}
	for in, want := range map[string]runtime.BatchState{"BATCH_STATE_PENDING": runtime.BatchPending, "JOB_STATE_RUNNING": runtime.BatchRunning,
		"BATCH_STATE_EXPIRED": runtime.BatchExpired, "BATCH_STATE_CANCELLED": runtime.BatchCancelled, "BATCH_STATE_FAILED": runtime.BatchFailed} {
		if got := batchState(in); got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}
	// A failed job's Operation error is kept (go-genai drops it).
	if err := json.Unmarshal([]byte(`{"name":"batches/y","done":true,"error":{"code":13,"message":"boom"},"metadata":{"state":"BATCH_STATE_FAILED"}}`), &op); err != nil {
		t.Fatal(err)
	}
	if st := op.status(); st.State != runtime.BatchFailed || st.Error != "boom" {
		t.Fatalf("failed status = %+v", st)
	}
}

// BenchmarkReadResultLines decodes a results file: per result line, the
// key and the reply (text and usage).
func BenchmarkReadResultLines(b *testing.B) {
	var sb strings.Builder
	const n = 10000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, `{"key":"i%07d","response":{"candidates":[{"content":{"parts":[{"text":"{\"topic\":\"weather\",\"score\":%d}"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":9,"totalTokenCount":21},"modelVersion":"gemini-2.5-flash-lite"}}`+"\n", i, i%10)
	}
	file := sb.String()
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := readResultLines(strings.NewReader(file))
		if err != nil || len(res) != n {
			b.Fatal(err, len(res))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/result")
}
