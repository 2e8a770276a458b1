package sim

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/genai"
)

func TestUnknownPath(t *testing.T) {
	s := startSim(t, nil)
	for _, tc := range []struct{ method, path string }{
		{"GET", "v1beta/nothing"},
		{"POST", "v1beta/models/m:explode"},
		{"GET", "v1beta/models/m:generateContent"},
		{"GET", "elsewhere"},
		{"PUT", "v1/cachedContents"},
	} {
		req, _ := http.NewRequest(tc.method, s.URL()+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct {
				Code    int    `json:"code"`
				Status  string `json:"status"`
				Message string `json:"message"`
			} `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 404 || body.Error.Code != 404 || body.Error.Status != "NOT_FOUND" || body.Error.Message == "" {
			t.Errorf("%s %s: %d %+v %v", tc.method, tc.path, resp.StatusCode, body, err)
		}
	}
}

func TestV1Path(t *testing.T) {
	s := startSim(t, nil)
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey: "test", Backend: genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{BaseURL: s.URL(), APIVersion: "v1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := generate(t, c, flash, "hi", nil); err != nil {
		t.Fatal(err)
	}
	if p := s.Log()[0].Path; p != "/v1/models/"+flash+":generateContent" {
		t.Errorf("path %q", p)
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8080", "[::]:0", "example.com:80", "nonsense"} {
		cfg := DefaultConfig()
		cfg.Addr = addr
		if s, err := Start(context.Background(), cfg); err == nil {
			s.Close()
			t.Errorf("Start(%q) succeeded", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0"} {
		if err := checkLoopback(addr); err != nil {
			t.Errorf("checkLoopback(%q) = %v", addr, err)
		}
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"mode":       func(c *Config) { c.LimitMode = "leaky" },
		"window":     func(c *Config) { c.Window = 0 },
		"fault kind": func(c *Config) { c.Fail = map[string]float64{"boom": 0.1} },
		"fault sum":  func(c *Config) { c.Fail = map[string]float64{"500": 0.6, "503": 0.6} },
		"script":     func(c *Config) { c.Script = []ScriptLine{{Text: "no item"}} },
	} {
		cfg := DefaultConfig()
		edit(&cfg)
		if s, err := Start(context.Background(), cfg); err == nil {
			s.Close()
			t.Errorf("%s: Start succeeded", name)
		}
	}
}

func TestStartStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := http.Get(s.URL() + "stats"); err != nil {
			return // closed
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("server still answering after its context ended")
}

func TestLogFileAndStats(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	cfg := DefaultConfig()
	cfg.LogFile, cfg.LogBodies = path, true
	cfg.RPM = map[string]int{flash: 3}
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s)
	for i := range 5 {
		generate(t, c, flash, "hello", withItem(nil, []string{"a", "b"}[i%2])) //nolint:errcheck // 429s expected
	}
	resp, err := http.Get(s.URL() + "stats")
	if err != nil {
		t.Fatal(err)
	}
	var st Stats
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.Generate != 5 || st.Status["200"] != 3 || st.Status["429"] != 2 || st.Rejected[flash]["rpm"] != 2 ||
		st.Successes["a"] != 2 || st.Successes["b"] != 1 || st.Accepted[flash][0].Requests != 3 || st.Tokens.Prompt != 6 {
		t.Errorf("stats %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var entries []LogEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e LogEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		entries = append(entries, e)
	}
	// 5 generate calls and the /stats request.
	if len(entries) != 6 {
		t.Fatalf("%d log lines, want 6", len(entries))
	}
	e := entries[0]
	if e.Model != flash || e.Item != "a" || e.Call != 1 || e.Status != 200 || !e.Accepted || e.PromptTokens != 2 || len(e.Body) == 0 {
		t.Errorf("first entry %+v", e)
	}
	if entries[4].Kind != "quota:rpm" || entries[4].Status != 429 || entries[4].Call != 3 {
		t.Errorf("fifth entry %+v", entries[4])
	}
}

func TestRegisterFlags(t *testing.T) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("llmpipe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.RegisterFlags(fs, "sim-")
	err := fs.Parse([]string{
		"--sim-seed=9", "--sim-latency=800ms", "--sim-latency-tail", "0.01=5s",
		"--sim-rpm", "gemini-2.5-flash=1000", "--sim-rpm", "*=10", "--sim-tpm", "*=1000000",
		"--sim-limit-mode=bucket", "--sim-window=6s", "--sim-invalid", "*=0.05",
		"--sim-fail", "503=0.01", "--sim-fail", "hang=0.005", "--sim-poison", "x1,x2",
		"--sim-reject-counts", "--sim-cached-count-tpm=false", "--sim-min-cache-tokens=2048",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Seed != 9 || cfg.Latency != 800*time.Millisecond || cfg.LatencyTail != (Tail{0.01, 5 * time.Second}) ||
		cfg.RPM["gemini-2.5-flash"] != 1000 || cfg.RPM["*"] != 10 || cfg.TPM["*"] != 1000000 ||
		cfg.LimitMode != ModeBucket || cfg.Window != 6*time.Second || cfg.Invalid["*"] != 0.05 ||
		cfg.Fail["503"] != 0.01 || cfg.Fail["hang"] != 0.005 || strings.Join(cfg.Poison, ",") != "x1,x2" ||
		!cfg.RejectCounts || cfg.CachedCountTPM || cfg.MinCacheTokens != 2048 || cfg.Addr != "127.0.0.1:0" {
		t.Errorf("parsed %+v", cfg)
	}
	// Every flag documents itself.
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.HasPrefix(f.Name, "sim-") || len(f.Usage) < 15 {
			t.Errorf("flag %q usage %q", f.Name, f.Usage)
		}
	})
	for _, bad := range [][]string{{"--sim-rpm", "nomodel"}, {"--sim-fail", "503=2"}, {"--sim-latency-tail", "0.1"}} {
		if err := fs.Parse(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
