package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/llmpipe/llmpipe/stdlib/gemini/sim"
)

func cmdSim(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "sim", "[flags]", `
Run the Gemini simulator: a stand-in for Gemini's REST API on a loopback port
that the official SDKs work against unchanged. It answers with JSON that fits
the request's schema (drawn from the prompt's text), and can be told to be
slow, to enforce quotas with real 429 bodies, to fail, and to answer wrongly.
It also serves Batch Mode and the Files API (--batch-latency, --batch-fail,
--batch-expire, --batch-enqueued-tokens shape the jobs).
It prints its address, then serves until interrupted.

Point llmpipe (or any Gemini SDK) at it:
  llmpipe sim --addr 127.0.0.1:8089 --latency 300ms --rpm '*=600' &
  GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:8089/ GEMINI_API_KEY=x llmpipe run job.llmp

Commands that call models take --sim to start one in-process instead, with
these flags prefixed by sim- (--sim-latency 50ms, --sim-script FILE, …).`)
	cfg := sim.DefaultConfig()
	cfg.RegisterFlags(fs, "")
	if _, code, ok := parseArgs(env, fs, args); !ok {
		return code
	}
	if os.Getenv("GOGC") == "" {
		// The simulator stands in for a server on another machine, yet it
		// shares this one's cores with the client it serves, and a
		// benchmark's client figures should be the client's. Its heap is
		// small and short-lived per request: collecting it a fifth as
		// often cuts its CPU per request. A GOGC given by the caller wins.
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := sim.Start(ctx, cfg)
	if err != nil {
		env.errorf("%v", err)
		return exitError
	}
	fmt.Fprintf(env.stdout, "gemini simulator listening on %s\n", srv.URL())
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		env.errorf("%v", err)
		return exitError
	}
	return exitOK
}
