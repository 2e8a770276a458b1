package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/llmpipe/llmpipe"
	"github.com/llmpipe/llmpipe/interp"
	"github.com/llmpipe/llmpipe/runtime"
	"github.com/llmpipe/llmpipe/stdlib"
	"github.com/llmpipe/llmpipe/stdlib/metrics"
	"github.com/llmpipe/llmpipe/stdlib/store"
	"github.com/llmpipe/llmpipe/stdlib/web"
)

// defaultUIAddr is where the web view listens unless told otherwise.
const defaultUIAddr = "127.0.0.1:7878"

func cmdServe(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "serve", "FILE [--addr 127.0.0.1:7878] [--metrics ADDR]", `
Serve a web view of the pipeline's run store: an overview of the last run
(live while a run goes: it is safe to serve beside 'llmpipe run'), the items
with filters (step, outcome, final rung, failed check, id prefix), one item
with every attempt (prompt, feedback, reply, checks, tokens, cost), and the
run history. The same figures are JSON under /api/ (see the README).

The view only reads the store. It listens on loopback unless --allow-remote.
Ctrl-C stops it.

Examples:
  llmpipe serve pipelines/extract_people.llmp
  llmpipe serve job.llmp --addr 127.0.0.1:9000 --metrics 127.0.0.1:9100`)
	addr := fs.String("addr", defaultUIAddr, "listen on `host:port`")
	storePath := fs.String("store", "", "the run store `path` (default: as run uses)")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback --addr (anyone who reaches it reads every prompt and reply)")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics summed from the store on `host:port` at /metrics")
	pos, code, ok := parseArgs(env, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		env.errorf("serve: name one .llmp file")
		return exitUsage
	}
	p, s, code := openStoreFor(ctx, env, pos[0], *storePath)
	if s == nil {
		return code
	}
	defer s.Close()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := web.New(web.Options{Store: s, Program: p.Program, Pipeline: p.Name(),
		Total: func(ctx context.Context) (int, bool) { return sourceItems(ctx, p) }})
	if err != nil {
		env.errorf("%v", err)
		return exitError
	}
	ln, warning, err := web.Listen(*addr, *allowRemote)
	if err != nil {
		env.errorf("%v", err)
		return exitError
	}
	if warning != "" {
		env.errorf("warning: %s", warning)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	if *metricsAddr != "" {
		mln, err := listenMetrics(env, *metricsAddr, *allowRemote)
		if err != nil {
			ln.Close()
			env.errorf("%v", err)
			return exitError
		}
		wg.Go(func() { serveMetrics(ctx, env, mln, metrics.Store(srv.Overview)) })
	}
	fmt.Fprintf(env.stderr, "llmpipe: serving %s at %s (Ctrl-C stops)\n", s.Path(), web.URL(ln))
	if err := srv.Serve(ctx, ln); err != nil {
		env.errorf("%v", err)
		return exitError
	}
	return exitOK
}

// sourceItems counts the items of the steps that read a source (the
// largest source), for the overview's progress when no run is live.
func sourceItems(ctx context.Context, p *llmpipe.Pipeline) (int, bool) {
	n, ok := 0, false
	for _, st := range p.Program.Steps {
		if st.FromSource == nil {
			continue
		}
		c, cok := countSource(ctx, st.FromSource)
		if !cok {
			return 0, false
		}
		n, ok = max(n, c), true
	}
	return n, ok
}

// countSource counts a source's rows (before any where filter).
func countSource(ctx context.Context, src *interp.Source) (int, bool) {
	s, err := stdlib.OpenSource(ctx, src)
	if err != nil {
		return 0, false
	}
	defer s.Close()
	c, ok := s.(runtime.Counter)
	if !ok {
		return 0, false
	}
	n, err := c.Count(ctx)
	if err != nil {
		return 0, false
	}
	if src.Limit > 0 && n > src.Limit {
		n = src.Limit
	}
	return n, true
}

// uiFlag is --ui (the default address) or --ui=ADDR.
type uiFlag struct {
	on   bool
	addr string
}

func (f *uiFlag) String() string {
	if !f.on {
		return ""
	}
	return f.addr
}

func (f *uiFlag) Set(v string) error {
	switch v {
	case "true":
		f.on, f.addr = true, defaultUIAddr
	case "false":
		f.on, f.addr = false, ""
	default:
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("want host:port: %w", err)
		}
		f.on, f.addr = true, v
	}
	return nil
}

func (f *uiFlag) IsBoolFlag() bool { return true }

// viewFlags are the web view and metrics flags of run and dev.
type viewFlags struct {
	ui          uiFlag
	allowRemote bool
	metrics     string // run only
}

func addViewFlags(fs *flag.FlagSet, vf *viewFlags, withMetrics bool) {
	fs.Var(&vf.ui, "ui", "serve the web view while running and print its URL (--ui=`host:port`; default "+defaultUIAddr+")")
	fs.BoolVar(&vf.allowRemote, "allow-remote", false, "allow a non-loopback --ui or --metrics address (anyone who reaches it reads every prompt and reply)")
	if withMetrics {
		fs.StringVar(&vf.metrics, "metrics", "", "serve Prometheus metrics of the run on `host:port` at /metrics")
	}
}

// liveView is the web view of a run in this process: a read-only store
// handle of its own (so it outlives nothing the run closes) and the
// server's goroutine.
type liveView struct {
	store  *store.Store
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// listenView opens the web view's address, before the run starts, so a
// bad address fails before anything is called.
func listenView(env *cmdEnv, vf *viewFlags) (net.Listener, error) {
	ln, warning, err := web.Listen(vf.ui.addr, vf.allowRemote)
	if err != nil {
		return nil, err
	}
	if warning != "" {
		env.errorf("warning: %s", warning)
	}
	return ln, nil
}

// startView serves the web view on ln for a run started on storePath.
// opts' Stats and friends read the run; they are called until stop
// returns. On error ln is closed.
func startView(ctx context.Context, env *cmdEnv, ln net.Listener, p *llmpipe.Pipeline, storePath string, opts web.Options) (*liveView, error) {
	ro, err := store.Open(ctx, storePath, store.Options{ReadOnly: true, CheckLimit: -1})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("web view: %w", err)
	}
	opts.Store, opts.Program, opts.Pipeline = ro, p.Program, p.Name()
	srv, err := web.New(opts)
	if err != nil {
		ln.Close()
		ro.Close()
		return nil, err
	}
	fmt.Fprintf(env.stderr, "llmpipe: web view at %s\n", web.URL(ln))
	vctx, cancel := context.WithCancel(ctx)
	v := &liveView{store: ro, cancel: cancel}
	v.wg.Go(func() {
		if err := srv.Serve(vctx, ln); err != nil {
			env.errorf("web view: %v", err)
		}
	})
	return v, nil
}

// stop shuts the view down and closes its store handle.
func (v *liveView) stop() {
	if v == nil {
		return
	}
	v.cancel()
	v.wg.Wait()
	v.store.Close()
}

func listenMetrics(env *cmdEnv, addr string, allowRemote bool) (net.Listener, error) {
	ln, warning, err := web.Listen(addr, allowRemote)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if warning != "" {
		env.errorf("warning: metrics: %s", warning)
	}
	fmt.Fprintf(env.stderr, "llmpipe: metrics at %smetrics\n", web.URL(ln))
	return ln, nil
}

// serveMetrics serves h at /metrics on ln until ctx ends.
func serveMetrics(ctx context.Context, env *cmdEnv, ln net.Listener, h http.Handler) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		srv.Shutdown(sctx)
		cancel()
		<-errc
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			env.errorf("metrics: %v", err)
		}
	}
}
