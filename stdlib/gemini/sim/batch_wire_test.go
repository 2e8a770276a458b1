package sim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBatchRawShapes checks the wire shapes go-genai hides and the
// snake_case spelling of the Guide's curl samples.
func TestBatchRawShapes(t *testing.T) {
	s := startSim(t, func(c *Config) { c.BatchLatency = fastBatches })
	post := func(path, body string, hdr map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", s.URL()+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, b
	}
	req := `{"contents":[{"parts":[{"text":"Extract: Ann Lee is 34."}]}],"generation_config":{"response_mime_type":"application/json","response_schema":{"type":"OBJECT","properties":{"first_name":{"type":"STRING"}},"property_ordering":["first_name"]}}}`
	resp, b := post("v1beta/models/"+flash+":batchGenerateContent",
		`{"batch":{"display_name":"snake","input_config":{"requests":{"requests":[{"request":`+req+`,"metadata":{"key":"a_1"}}]}}}}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var op map[string]any
	json.Unmarshal(b, &op)
	md := op["metadata"].(map[string]any)
	if _, ok := op["done"]; ok || md["@type"] != batchType || md["state"] != batchPending || md["displayName"] != "snake" ||
		md["batchStats"].(map[string]any)["requestCount"] != "1" || op["response"] != nil {
		t.Fatalf("create reply %s", b)
	}
	name := op["name"].(string)
	waitJob(t, newClient(t, s), name)
	op = rawGet(t, s, name)
	md = op["metadata"].(map[string]any)
	out := op["response"].(map[string]any)
	inl := out["inlinedResponses"].(map[string]any)["inlinedResponses"].([]any)[0].(map[string]any)
	text := inl["response"].(map[string]any)["candidates"].([]any)[0].(map[string]any)["content"].(map[string]any)["parts"].([]any)[0].(map[string]any)["text"]
	if op["done"] != true || out["@type"] != batchOutputType || md["output"] == nil || inl["metadata"].(map[string]any)["key"] != "a_1" ||
		!strings.Contains(text.(string), `"first_name"`) {
		t.Fatalf("ended %v", op)
	}

	// A snake_case file upload by hand: start, two chunks, finalize.
	data := `{"key":"x","request":` + req + "}\n"
	resp, b = post("upload/v1beta/files", `{"file":{"display_name":"in","mime_type":"application/jsonl"}}`, map[string]string{
		"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start"})
	u := resp.Header.Get("X-Goog-Upload-URL")
	if resp.StatusCode != 200 || u == "" || resp.Header.Get("X-Goog-Upload-Status") != "active" {
		t.Fatalf("start: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	path := strings.TrimPrefix(u, strings.TrimSuffix(s.URL(), "/")+"/")
	resp, _ = post(path, data[:10], map[string]string{"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "0"})
	if resp.StatusCode != 200 || resp.Header.Get("X-Goog-Upload-Status") != "active" {
		t.Fatalf("chunk: %d", resp.StatusCode)
	}
	resp, _ = post(path, data[10:], map[string]string{"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "3"})
	if resp.StatusCode != 400 || resp.Header.Get("X-Goog-Upload-Status") != "final" {
		t.Fatalf("wrong offset: %d %v", resp.StatusCode, resp.Header)
	}
	for _, hdr := range []map[string]string{{"X-Goog-Upload-Command": "explode"}, {}} {
		if resp, _ := post(path, "", hdr); resp.StatusCode != 400 || resp.Header.Get("X-Goog-Upload-Status") != "final" {
			t.Errorf("bad command %v: %d %v", hdr, resp.StatusCode, resp.Header)
		}
	}
	if resp, _ := post("upload/v1beta/files?upload_id=nope", "", map[string]string{"X-Goog-Upload-Command": "upload"}); resp.StatusCode != 404 || resp.Header.Get("X-Goog-Upload-Status") != "final" {
		t.Errorf("unknown session: %d %v", resp.StatusCode, resp.Header)
	}
	resp, b = post(path, data[10:], map[string]string{"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "10"})
	var fr struct{ File map[string]any }
	json.Unmarshal(b, &fr)
	if resp.StatusCode != 200 || resp.Header.Get("X-Goog-Upload-Status") != "final" || fr.File["sizeBytes"] != fmt.Sprint(len(data)) || fr.File["displayName"] != "in" {
		t.Fatalf("finalize: %d %s", resp.StatusCode, b)
	}
	resp, b = post("v1beta/models/"+flash+":batchGenerateContent", `{"batch":{"input_config":{"file_name":"`+fr.File["name"].(string)+`"}}}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("create from file: %d %s", resp.StatusCode, b)
	}
	json.Unmarshal(b, &op)
	waitJob(t, newClient(t, s), op["name"].(string))
	op = rawGet(t, s, op["name"].(string))
	rf := op["response"].(map[string]any)["responsesFile"].(string)
	if op["metadata"].(map[string]any)["output"].(map[string]any)["responsesFile"] != rf {
		t.Fatalf("output %v", op)
	}
	dl, err := http.Get(s.URL() + "v1beta/" + rf + ":download?alt=media")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(dl.Body)
	sc.Scan()
	dl.Body.Close()
	if !strings.HasPrefix(sc.Text(), `{"key":"x","response":{"candidates"`) {
		t.Errorf("results line %q", sc.Text())
	}

	// Errors: both inputs, no input, unknown file, unknown job.
	for _, tc := range []struct {
		body string
		code int
	}{
		{`{"batch":{"inputConfig":{"fileName":"files/a","requests":{"requests":[]}}}}`, 400},
		{`{"batch":{"inputConfig":{}}}`, 400},
		{`{"batch":{"inputConfig":{"fileName":"files/nope"}}}`, 404},
		{`{"batch":`, 400},
	} {
		if resp, b := post("v1beta/models/"+flash+":batchGenerateContent", tc.body, nil); resp.StatusCode != tc.code {
			t.Errorf("%s: %d %s", tc.body, resp.StatusCode, b)
		}
	}
	if resp, _ := post("v1beta/batches/nope:cancel", "", nil); resp.StatusCode != 404 {
		t.Errorf("cancel of an unknown job: %d", resp.StatusCode)
	}
}

func TestFastLine(t *testing.T) {
	for _, tc := range []struct {
		line, key, req string
		ok             bool
	}{
		{`{"key":"a","request":{"contents":[{"parts":[{"text":"x_y"}]}]}}`, "a", `{"contents":[{"parts":[{"text":"x_y"}]}]}`, true},
		{` { "request" : {"x":[1,{"y":null}]} , "key" : 12 } `, "12", `{"x":[1,{"y":null}]}`, true},
		{`{"key":"a","request":{"generation_config":{}}}`, "", "", false},
		{`{"key":"a","request":{"p":{"first_name":1}}}`, "", "", false},
		{`{"Key":"a","request":{}}`, "", "", false},
		{`{"key":null,"request":{}}`, "", "", false},
		{`{"key":"a"}`, "", "", false},
		{`{"key":"a","request":[]}`, "", "", false},
		{`{"key":"a","request":{}} x`, "", "", false},
		{`{"key":"a","other":{"b_c":1},"request":{}}`, "a", `{}`, true},
	} {
		key, req, ok := fastLine([]byte(tc.line))
		if ok != tc.ok || key != tc.key || string(req) != tc.req {
			t.Errorf("fastLine(%s) = %q, %s, %v; want %q, %s, %v", tc.line, key, req, ok, tc.key, tc.req, tc.ok)
		}
	}
}

func TestCamel(t *testing.T) {
	for in, want := range map[string]string{"input_config": "inputConfig", "file_name": "fileName", "fileName": "fileName", "a_b_c": "aBC", "_x": "_x"} {
		if got := camel(in); got != want {
			t.Errorf("camel(%q) = %q, want %q", in, got, want)
		}
	}
	v, _ := decodeAny([]byte(`{"response_schema":{"properties":{"first_name":{"min_length":1}}},"metadata":{"a_b":"c"},"response_json_schema":{"x_y":1}}`))
	b, _ := json.Marshal(camelKeys(v))
	if want := `{"metadata":{"a_b":"c"},"responseJsonSchema":{"x_y":1},"responseSchema":{"properties":{"first_name":{"minLength":1}}}}`; string(b) != want {
		t.Errorf("camelKeys:\n got %s\nwant %s", b, want)
	}
}

// TestFastCreate: the fast reading of a create body agrees with the
// general one wherever it takes the body, and leaves the rest to it.
func TestFastCreate(t *testing.T) {
	for _, tc := range []struct {
		body string
		fast bool
	}{
		{`{"batch":{"displayName":"d","inputConfig":{"requests":{"requests":[{"metadata":{"key":"k1","x":2},"request":{"contents":[{"parts":[{"text":"a_b"}]}]}},{"request":{}}]}}}}`, true},
		{`{"batch":{"inputConfig":{"fileName":"files/x"}}}`, true},
		{`{"batch":{"inputConfig":{"requests":{"requests":[{"metadata":{"key":7},"request":{"contents":[]}}]}}}}`, true},
		{`{"batch":{"input_config":{"file_name":"files/x"}}}`, false},
		{`{"batch":{"inputConfig":{"requests":{"requests":[{"request":null}]}}}}`, false},
		{`{"batch":{"displayName":3,"inputConfig":{"fileName":"files/x"}}}`, false},
		{`{"nobatch":{}}`, false},
		{`{"batch":`, false},
	} {
		fast, ok := fastCreate([]byte(tc.body))
		if ok != tc.fast {
			t.Errorf("fastCreate(%s) ok = %v, want %v", tc.body, ok, tc.fast)
			continue
		}
		if !ok {
			continue
		}
		slow, aerr := slowCreate([]byte(tc.body))
		if aerr != nil {
			t.Fatalf("slowCreate(%s): %v", tc.body, aerr.Message)
		}
		if fast.displayName != slow.displayName || fast.fileName != slow.fileName || fast.inline != slow.inline || len(fast.reqs) != len(slow.reqs) {
			t.Errorf("%s: fast %+v, slow %+v", tc.body, fast, slow)
			continue
		}
		for i := range fast.reqs {
			f, s := fast.reqs[i], slow.reqs[i]
			if f.key != s.key || !sameJSON(f.body, s.body) || (len(f.metadata) > 0 || len(s.metadata) > 0) && !sameJSON(f.metadata, s.metadata) {
				t.Errorf("%s: request %d: fast %+v, slow %+v", tc.body, i, f, s)
			}
		}
	}
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}
