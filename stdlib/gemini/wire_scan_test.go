package gemini

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/llmpipe/llmpipe/runtime"
)

// decodeJSONOnly is decodeResponse through encoding/json alone: the
// reference scanReply is held to.
func decodeJSONOnly(body []byte) (*runtime.Response, error) {
	var resp wireResponse
	if len(body) > 0 {
		if err := json.Unmarshal(body, &resp); err != nil {
			return nil, &decodeError{err: err}
		}
	}
	return fromWire(&resp)
}

var replyCorpus = []struct {
	body    string
	scanned bool // scanReply reads it itself (no fallback)
}{
	{cannedReply, true},
	{okBody, true},
	{`{}`, true},
	{` { "candidates" : [ ] } `, true},
	{`{"candidates":[{"content":{"parts":[{"text":"a"},{"text":"think","thought":true},{"text":"b"}]},"finishReason":"STOP"}],"modelVersion":"m"}`, true},
	{`{"candidates":[{"content":{"parts":[{"thought":true,"text":"t"}],"role":"model"},"finishReason":"MAX_TOKENS"}]}`, true},
	{`{"candidates":[{"content":{"parts":[{"text":"x\n\"y\" \u00e9 é"}]}},{"content":{"parts":[{"text":"second"}]},"finishReason":"STOP"}]}`, true},
	{`{"candidates":[{"finishReason":"SAFETY"}]}`, true},
	{`{"promptFeedback":{"blockReason":"OTHER","safetyRatings":[{"a":1}]}}`, true},
	{`{"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP","safetyRatings":[{"category":"x","probability":"NEGLIGIBLE"}],"citationMetadata":{"c":[1,2.5,null,true]}}],` +
		`"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":2,"cachedContentTokenCount":3,"thoughtsTokenCount":4,"totalTokenCount":10,"promptTokensDetails":[{"modality":"TEXT","tokenCount":1}]},"responseId":"r"}`, true},
	{`{"usageMetadata":{"promptTokenCount":-0}}`, true},
	// Each of these goes to encoding/json, which decides.
	{`{"candidates":null}`, false},
	{`{"candidates":[null]}`, false},
	{`{"candidates":[{"content":null,"finishReason":"STOP"}]}`, false},
	{`{"Candidates":[{"content":{"parts":[{"text":"case"}]}}]}`, false},
	{`{"candidates":[],"candidates":[{"content":{"parts":[{"text":"repeat"}]}}]}`, false},
	{`{"candidates":[{"content":{"parts":[{"text":"a","thought":"yes"}]}}]}`, false},
	{`{"candidates":[{"content":{"parts":[{"text":5}]}}]}`, false},
	{`{"candidates":[{"content":{"parts":[{"text":"ok"}]}},{"content":5}]}`, false},
	{`{"usageMetadata":{"promptTokenCount":1.5}}`, false},
	{`{"usageMetadata":{"promptTokenCount":3000000000}}`, false},
	{`{"usageMetadata":{"promptTokenCount":1e2}}`, false},
	{`{"modelVersion":null}`, false},
	{`{"candidates":[{"content":{"parts":[{"text":"\ud83d\ude00"}]}}]}`, false},
	{"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"bad \xff\"}]}}]}", false},
	{`{"candidates":[{"content":{"parts":[{"text":"ok"}]}}]} trailing`, false},
	{`{"candidates":[{"content":{"parts":[{"text":"ok"}]}}]`, false},
	{`[]`, false},
	{`null`, false},
	{`"text"`, false},
}

func TestScanReplyMatchesJSON(t *testing.T) {
	for i, c := range replyCorpus {
		var sum replySummary
		if got := scanReply([]byte(c.body), &sum); got != c.scanned {
			t.Errorf("%d: scanReply = %v, want %v for %s", i, got, c.scanned, c.body)
		}
		compareDecoders(t, []byte(c.body))
	}
}

func compareDecoders(t *testing.T, body []byte) {
	t.Helper()
	got, gerr := decodeResponse(body)
	want, werr := decodeJSONOnly(body)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", body, got, want)
	}
	if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
		t.Fatalf("%s:\n got error %v\nwant %v", body, gerr, werr)
	}
}

func FuzzScanReply(f *testing.F) {
	for _, c := range replyCorpus {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		compareDecoders(t, body)
	})
}
