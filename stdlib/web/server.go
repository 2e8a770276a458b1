// Package web serves llmpipe's local web view of a pipeline's run store:
// a run overview that updates live, the items with filters and paging, one
// item with every attempt, the run history, and the JSON API behind those
// pages (/api/summary, /api/runs, /api/items, /api/items/{id}).
//
// The view only reads: the store through stdlib/store's query layer (safe
// beside a live run) and, when it is served by `run --ui` or `dev --ui`,
// the runner's live Stats. Pages are Go templates rendered on the server
// from files embedded in the binary; they work without JavaScript, which
// only refreshes the overview while a run goes. Nothing a page shows comes
// from the environment or the provider's settings, so no API key or header
// can reach it.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib/store"
)

//go:embed templates/*.html static/*
var files embed.FS

// Options configure a Server.
type Options struct {
	// Store is the pipeline's run store (read-only or the run's own).
	Store *store.Store
	// Program is the pipeline as loaded: its steps, their fingerprints
	// (results under another fingerprint are stale) and check names.
	Program *interp.Program
	// Pipeline names the pipeline in page titles.
	Pipeline string
	// Stats, RunID and Workers read a run in this process (run --ui,
	// dev --ui); nil when serving a store (serve), where the run, if any,
	// is another process and the store is all there is.
	Stats   func() runtime.Stats
	RunID   func() int64
	Workers func() int
	// Total counts the items the pipeline's sources hold (for progress
	// when there is no live run); nil or false: unknown.
	Total func(ctx context.Context) (int, bool)
	// Now is the clock (tests); nil: time.Now.
	Now func() time.Time
}

// Server is the web view. Its handler is safe for concurrent use.
type Server struct {
	opts Options
	tmpl *template.Template

	mu       sync.Mutex
	overview *store.Overview // cached: it reads the whole results table
	ovAt     time.Time
	ovCost   time.Duration
	total    *int // items in the sources, once counted
	tl       timeline
	samples  []sample
}

// New makes a server over opts.Store.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("web view: no store")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	t, err := template.New("").Funcs(funcs).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web view: parsing templates: %w", err)
	}
	return &Server{opts: opts, tmpl: t}, nil
}

// Handler returns the view's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(files, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.pageOverview)
	mux.HandleFunc("GET /items", s.pageItems)
	mux.HandleFunc("GET /items/{id...}", s.pageItem)
	mux.HandleFunc("GET /runs", s.pageRuns)
	mux.HandleFunc("GET /api/summary", s.apiSummary)
	mux.HandleFunc("GET /api/runs", s.apiRuns)
	mux.HandleFunc("GET /api/items", s.apiItems)
	mux.HandleFunc("GET /api/items/{id...}", s.apiItem)
	return secureHeaders(mux)
}

// secureHeaders keeps the pages to themselves: no framing, no sniffing, no
// scripts or styles but the view's own.
func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// Serve serves the view on ln until ctx ends, then shuts the server down.
// While it serves it samples the run once a second for the overview's
// charts.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	var wg sync.WaitGroup
	wg.Go(func() { s.sampleLoop(ctx) })
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
		<-errc
	case err = <-errc:
	}
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Listen opens addr for the view. A host that is not a loopback address
// is refused unless allowRemote; then warning says who can now see it.
func Listen(addr string, allowRemote bool) (ln net.Listener, warning string, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, "", fmt.Errorf("web view address %q: %w", addr, err)
	}
	if !isLoopback(host) {
		if !allowRemote {
			return nil, "", fmt.Errorf("web view address %q is not a loopback address: anyone who can reach it could read prompts and replies; pass --allow-remote to serve it anyway", addr)
		}
		warning = fmt.Sprintf("the web view on %s can be reached from other machines, without a password: it shows every prompt and reply", addr)
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("web view: %w", err)
	}
	return ln, warning, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// URL is the address to print for ln: a browser cannot open 0.0.0.0.
func URL(ln net.Listener) string {
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port)) + "/"
}
