package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a running simulator. Its methods are safe for concurrent use.
type Server struct {
	cfg     Config
	seed    hasher
	script  []ScriptLine
	poison  map[string]bool
	start   time.Time
	ln      net.Listener
	srv     *http.Server
	url     string
	quotas  *quotas
	caches  *caches
	st      *counters
	log     *requestLog
	schemas schemaCache
	bufs    sync.Pool
	ids     idSource
	files   *files
	batches *batches
	// batchesDone is closed when the goroutine that ends jobs on time
	// returns (after closing).
	batchesDone chan struct{}

	// handlers counts running ServeHTTP calls: Shutdown stops tracking a
	// connection once it is hijacked (reset, truncate), but its log entry
	// must still land before the log closes.
	handlers sync.WaitGroup

	closing chan struct{} // closed by Close: ends hangs and sleeps
	served  chan struct{} // closed when Serve returns
	// fresh holds connections that have not sent a request yet: Shutdown
	// would wait 5 s for them (net/http treats them as busy), so Close
	// drops them first.
	connMu    sync.Mutex
	fresh     map[net.Conn]struct{}
	closeOnce sync.Once
	closeErr  error
	stopCtx   func() bool
}

// Start validates cfg, loads the script, opens the log and listens on
// cfg.Addr. The server runs until Close or until ctx is done.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("sim config: %w", err)
	}
	if cfg.HangMax <= 0 {
		cfg.HangMax = 10 * time.Minute
	}
	// Own the tables: the caller may reuse or change its Config.
	cfg.RPM, cfg.TPM, cfg.RPD = cloneMap(cfg.RPM), cloneMap(cfg.TPM), cloneMap(cfg.RPD)
	cfg.Invalid, cfg.Fail = cloneMap(cfg.Invalid), cloneMap(cfg.Fail)
	cfg.BatchEnqueuedTokens = cloneMap(cfg.BatchEnqueuedTokens)
	script := append([]ScriptLine(nil), cfg.Script...)
	if cfg.ScriptFile != "" {
		more, err := LoadScript(cfg.ScriptFile)
		if err != nil {
			return nil, err
		}
		script = append(script, more...)
	}
	// Requests carry item keys (see itemID); match on the same form.
	for i := range script {
		if script[i].Item != "*" {
			script[i].Item = sameKey(script[i].Item)
		}
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("sim listen: %w", err)
	}
	rl, err := openLog(cfg.LogFile, cfg.KeepLog)
	if err != nil {
		ln.Close()
		return nil, err
	}
	now := time.Now()
	s := &Server{
		cfg:     cfg,
		seed:    newHasher(cfg.Seed),
		script:  script,
		poison:  map[string]bool{},
		start:   now,
		ln:      ln,
		url:     "http://" + ln.Addr().String() + "/",
		st:      newCounters(cfg.Window, cfg.ItemSuccesses),
		log:     rl,
		closing: make(chan struct{}),
		served:  make(chan struct{}),
		fresh:   map[net.Conn]struct{}{},
		ids:     newIDSource(cfg.Seed, now.UnixNano()),
		batches: newBatches(cfg.Clock),

		batchesDone: make(chan struct{}),
	}
	s.files = newFiles()
	for _, id := range cfg.Poison {
		s.poison[sameKey(id)] = true
	}
	s.quotas = newQuotas(&s.cfg, now)
	s.caches = newCaches(cfg.Window, s.st)
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		// Resets and truncations are on purpose; keep net/http quiet.
		ErrorLog:  log.New(io.Discard, "", 0),
		ConnState: s.trackConn,
	}
	go s.runBatches()
	go func() {
		defer close(s.served)
		s.srv.Serve(ln) //nolint:errcheck // always ErrServerClosed or a listener error after Close
	}()
	s.stopCtx = context.AfterFunc(ctx, func() { s.Close() })
	return s, nil
}

// Serve runs a simulator until ctx is done, then closes it: the shape a
// CLI command wants. ready, if not nil, is called once the server listens
// (to print its URL, say).
func Serve(ctx context.Context, cfg Config, ready func(*Server)) error {
	s, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(s)
	}
	<-ctx.Done()
	return s.Close()
}

// URL is the base URL for genai's HTTPOptions.BaseURL, with a trailing
// slash, e.g. "http://127.0.0.1:34567/".
func (s *Server) URL() string { return s.url }

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server: it ends hanging and sleeping requests, waits for
// handlers to finish (up to 5 s, then drops connections), and flushes and
// closes the log. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.stopCtx != nil {
			s.stopCtx()
		}
		close(s.closing)
		s.srv.SetKeepAlivesEnabled(false)
		s.connMu.Lock()
		for c := range s.fresh {
			c.Close()
		}
		s.connMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.srv.Shutdown(ctx)
		if err != nil {
			err = errors.Join(err, s.srv.Close())
		}
		<-s.served
		s.handlers.Wait()
		<-s.batchesDone
		s.closeBatches()
		s.closeErr = errors.Join(err, s.log.close())
	})
	return s.closeErr
}

func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	s.connMu.Lock()
	if st == http.StateNew {
		s.fresh[c] = struct{}{}
	} else {
		delete(s.fresh, c)
	}
	s.connMu.Unlock()
}

// Stats returns a copy of the ground-truth counters.
func (s *Server) Stats() Stats {
	s.caches.sweep(time.Now())
	return s.st.snapshot()
}

// Log returns the log entries kept in memory; it is empty unless
// Config.KeepLog was set.
func (s *Server) Log() []LogEntry { return s.log.entries() }

// window returns the fixed window index of t.
func (s *Server) window(t time.Time) int64 { return int64(t.Sub(s.start) / s.cfg.Window) }

// sleep waits d unless the request is cancelled or the server closes; it
// reports whether the full time passed.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

func (s *Server) getBuf() []byte {
	if b, ok := s.bufs.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 4096)
}

func (s *Server) putBuf(b []byte) {
	if cap(b) <= 1<<20 {
		s.bufs.Put(&b)
	}
}
