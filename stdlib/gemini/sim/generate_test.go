package sim

import (
	"encoding/json"
	"iter"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/genai"
)

const flash = "gemini-2.5-flash"

func personSchema() *genai.Schema {
	return &genai.Schema{
		Type:     genai.TypeObject,
		Required: []string{"name", "age", "email", "sentiment"},
		Properties: map[string]*genai.Schema{
			"name":      {Type: genai.TypeString},
			"age":       {Type: genai.TypeInteger},
			"email":     {Type: genai.TypeString},
			"sentiment": {Type: genai.TypeString, Enum: []string{"positive", "negative", "neutral"}},
			"hobbies":   {Type: genai.TypeArray, Items: &genai.Schema{Type: genai.TypeString}},
			"score":     {Type: genai.TypeNumber, Minimum: genai.Ptr(0.0), Maximum: genai.Ptr(1.0)},
			"active":    {Type: genai.TypeBoolean},
		},
	}
}

const personPrompt = "Extract the person: Maria Lopez, 34, maria.lopez@example.org. She says the trip was negative overall and enjoys hiking and chess."

func TestGenerateText(t *testing.T) {
	s := startSim(t, nil)
	c := newClient(t, s)
	prompt := "Summarize the following review of the Eiffel Tower visit in one sentence please"
	resp, err := generate(t, c, flash, prompt, nil)
	if err != nil {
		t.Fatal(err)
	}
	text := resp.Text()
	if text == "" {
		t.Fatal("empty reply")
	}
	for _, w := range strings.Fields(strings.TrimSuffix(text, ".")) {
		if !strings.Contains(strings.ToLower(prompt), strings.ToLower(w)) {
			t.Errorf("reply word %q is not from the prompt (%q)", w, text)
		}
	}
	u := resp.UsageMetadata
	if want := int32(textTokens(prompt)); u.PromptTokenCount != want {
		t.Errorf("promptTokenCount = %d, want %d", u.PromptTokenCount, want)
	}
	if u.CandidatesTokenCount != int32(textTokens(text)) || u.TotalTokenCount != u.PromptTokenCount+u.CandidatesTokenCount+u.ThoughtsTokenCount {
		t.Errorf("usage %+v inconsistent with reply %q", u, text)
	}
	if resp.ModelVersion != flash || resp.ResponseID == "" {
		t.Errorf("modelVersion %q responseId %q", resp.ModelVersion, resp.ResponseID)
	}
	if fr := resp.Candidates[0].FinishReason; fr != genai.FinishReasonStop {
		t.Errorf("finishReason %q", fr)
	}
}

func TestGenerateSchemaGroundedInPrompt(t *testing.T) {
	s := startSim(t, func(c *Config) { c.Seed = 7 })
	c := newClient(t, s)
	resp, err := generate(t, c, flash, personPrompt, &genai.GenerateContentConfig{
		ResponseMIMEType: "application/json",
		ResponseSchema:   personSchema(),
	})
	if err != nil {
		t.Fatal(err)
	}
	text := resp.Text()
	var got struct {
		Name      string   `json:"name"`
		Age       *int     `json:"age"`
		Email     string   `json:"email"`
		Sentiment string   `json:"sentiment"`
		Hobbies   []string `json:"hobbies"`
		Score     *float64 `json:"score"`
		Active    *bool    `json:"active"`
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("reply %q: %v", text, err)
	}
	if got.Name != "Maria Lopez" || got.Age == nil || *got.Age != 34 || got.Email != "maria.lopez@example.org" {
		t.Errorf("values not taken from the prompt: %s", text)
	}
	if got.Sentiment != "negative" {
		t.Errorf("sentiment %q: want the enum value the prompt mentions", got.Sentiment)
	}
	if got.Hobbies != nil && (len(got.Hobbies) < 1 || len(got.Hobbies) > 3) {
		t.Errorf("hobbies has %d elements, want 1-3", len(got.Hobbies))
	}
	if got.Score != nil && (*got.Score < 0 || *got.Score > 1) {
		t.Errorf("score %v outside [0,1]", *got.Score)
	}
	// responseSchema replies list properties alphabetically, as Gemini does.
	keys := regexp.MustCompile(`"(\w+)":`).FindAllStringSubmatch(text, -1)
	for i := 1; i < len(keys); i++ {
		if keys[i-1][1] > keys[i][1] {
			t.Errorf("keys out of order in %s", text)
		}
	}
}

func TestGenerateJSONSchema(t *testing.T) {
	s := startSim(t, nil)
	c := newClient(t, s)
	schema := map[string]any{
		"type":     "object",
		"required": []string{"title", "year", "tags", "rating"},
		"properties": json.RawMessage(`{
			"title": {"type": "string", "maxLength": 40},
			"year": {"$ref": "#/$defs/year"},
			"tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
			"rating": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
			"kind": {"anyOf": [{"type": "null"}, {"type": "string", "enum": ["film", "book"]}]}
		}`),
		"$defs": map[string]any{"year": map[string]any{"type": "integer", "minimum": 1900, "maximum": 1999}},
	}
	for i := range 20 {
		prompt := "Describe The Silent River by Ann Lee, released long ago, variant " + string(rune('a'+i))
		resp, err := generate(t, c, flash, prompt, &genai.GenerateContentConfig{ResponseMIMEType: "application/json", ResponseJsonSchema: schema})
		if err != nil {
			t.Fatal(err)
		}
		text := resp.Text()
		var got map[string]any
		if err := json.Unmarshal([]byte(text), &got); err != nil {
			t.Fatalf("reply %q: %v", text, err)
		}
		if y, ok := got["year"].(float64); !ok || y < 1900 || y > 1999 || y != float64(int(y)) {
			t.Errorf("year %v does not follow the $ref'd schema", got["year"])
		}
		if tags, ok := got["tags"].([]any); !ok || len(tags) != 2 {
			t.Errorf("tags %v: want exactly 2", got["tags"])
		}
		if r, ok := got["rating"].(float64); !ok || r < 1 || r > 5 {
			t.Errorf("rating %v outside [1,5]", got["rating"])
		}
		if k, ok := got["kind"]; ok && k != "film" && k != "book" {
			t.Errorf("kind %v not in enum", k)
		}
		if title, _ := got["title"].(string); len(title) == 0 || len(title) > 40 {
			t.Errorf("title %q", title)
		}
	}
}

func TestStreaming(t *testing.T) {
	s := startSim(t, nil)
	c := newClient(t, s)
	cfg := &genai.GenerateContentConfig{ResponseMIMEType: "application/json", ResponseSchema: personSchema()}
	whole, err := generate(t, c, flash, personPrompt, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	var last *genai.GenerateContentResponse
	prev := int32(0)
	next, stop := iter.Pull2(c.Models.GenerateContentStream(testCtx(t), flash, genai.Text(personPrompt), cfg))
	defer stop()
	for {
		r, err, ok := next()
		if !ok {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, r.Text())
		if r.UsageMetadata.CandidatesTokenCount < prev {
			t.Errorf("running usage went down: %d after %d", r.UsageMetadata.CandidatesTokenCount, prev)
		}
		prev = r.UsageMetadata.CandidatesTokenCount
		last = r
	}
	if len(texts) < 2 {
		t.Fatalf("got %d chunks, want several", len(texts))
	}
	if got := strings.Join(texts, ""); got != whole.Text() {
		t.Errorf("stream text %q != unary %q", got, whole.Text())
	}
	if last.Candidates[0].FinishReason != genai.FinishReasonStop || last.UsageMetadata.CandidatesTokenCount != whole.UsageMetadata.CandidatesTokenCount {
		t.Errorf("last chunk: finish %q usage %+v", last.Candidates[0].FinishReason, last.UsageMetadata)
	}
}

func TestCountTokens(t *testing.T) {
	s := startSim(t, nil)
	c := newClient(t, s)
	text := strings.Repeat("abcd", 25) + "xy" // 102 chars: 26 tokens
	resp, err := c.Models.CountTokens(testCtx(t), flash, genai.Text(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.TotalTokens != 26 {
		t.Errorf("totalTokens = %d, want 26", resp.TotalTokens)
	}
}

func TestDeterminism(t *testing.T) {
	cfg := &genai.GenerateContentConfig{ResponseMIMEType: "application/json", ResponseSchema: personSchema()}
	prompt := "Tell me about Ada Lovelace and Charles Babbage, 1815, London, numbers and engines"
	run := func(seed int64) []string {
		s := startSim(t, func(c *Config) { c.Seed = seed })
		c := newClient(t, s)
		var out []string
		for range 2 {
			r, err := generate(t, c, flash, prompt, cfg)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r.Text())
		}
		r, err := generate(t, c, flash, prompt, nil)
		if err != nil {
			t.Fatal(err)
		}
		return append(out, r.Text())
	}
	a, b, other := run(1), run(1), run(2)
	if a[0] != a[1] || a[0] != b[0] || a[2] != b[2] {
		t.Errorf("same seed and request, different replies:\n%q\n%q", a, b)
	}
	if a[0] == other[0] && a[2] == other[2] {
		t.Errorf("different seeds gave the same replies: %q", a)
	}
}

func TestMaxOutputTokensTruncates(t *testing.T) {
	s := startSim(t, nil)
	c := newClient(t, s)
	resp, err := generate(t, c, flash, personPrompt, &genai.GenerateContentConfig{
		ResponseMIMEType: "application/json", ResponseSchema: personSchema(), MaxOutputTokens: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Candidates[0].FinishReason != genai.FinishReasonMaxTokens || resp.UsageMetadata.CandidatesTokenCount > 5 {
		t.Errorf("finish %q, %d output tokens; want MAX_TOKENS and <= 5", resp.Candidates[0].FinishReason, resp.UsageMetadata.CandidatesTokenCount)
	}
}

func TestBadRequests(t *testing.T) {
	s := startSim(t, func(c *Config) { c.RPM = map[string]int{"*": 100} })
	for _, body := range []string{
		`{"contents":`, // malformed
		`{"contents":[]}`,
		`{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseJsonSchema":{"$ref":"#/$defs/nope"}}}`,
	} {
		resp, err := http.Post(s.URL()+"v1beta/models/m:generateContent", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", body, resp.StatusCode)
		}
	}
	if acc := s.Stats().Accepted["m"]; len(acc) != 0 {
		t.Errorf("bad requests consumed quota: %v", acc)
	}
}
