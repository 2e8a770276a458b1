package main

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// withScriptCmds adds the commands below to cmds and returns it.
func withScriptCmds(cmds map[string]func(ts *testscript.TestScript, neg bool, args []string)) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	for k, v := range scriptCmds() {
		cmds[k] = v
	}
	return cmds
}

// scriptCmds are the custom commands of the CLI scripts, for commands that
// keep running (dev, run --watch): testscript's own background exec keeps
// output in memory until the process ends, so these write it to files the
// script can poll while the process runs.
//
//	spawn NAME PROG [ARGS...]     start PROG in the background; stdout to NAME.out, stderr to NAME.err
//	interrupt NAME                send it SIGINT and wait for it; fails unless it exits 0 (! inverts)
//	await NAME                    wait (up to 30s) for it to exit by itself; fails unless it exits 0 (! inverts)
//	waitfor [-count=N] [-timeout=DUR] FILE REGEXP
//	                              poll FILE until REGEXP matches (at least N times, default 1)
//	sleep DUR                     pause, e.g. to let a would-be second reload show up
func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"spawn":     cmdSpawn,
		"interrupt": cmdInterrupt,
		"await":     cmdAwait,
		"waitfor":   cmdWaitfor,
		"sleep":     cmdSleep,
	}
}

// spawned holds each script's background processes by name.
var spawned = struct {
	sync.Mutex
	m map[*testscript.TestScript]map[string]*spawnedProc
}{m: map[*testscript.TestScript]map[string]*spawnedProc{}}

type spawnedProc struct {
	cmd  *exec.Cmd
	done chan error
}

func cmdSpawn(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: spawn NAME PROG [ARGS...]")
	}
	name := args[0]
	out, err := os.Create(ts.MkAbs(name + ".out"))
	ts.Check(err)
	errf, err := os.Create(ts.MkAbs(name + ".err"))
	ts.Check(err)
	// The llmpipe binary is on the test process's PATH (testscript.Main
	// put it there); the environment is the script's.
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Stdout, cmd.Stderr = out, errf
	cmd.Env = append(os.Environ(), scriptEnv(ts)...)
	ts.Check(cmd.Start())
	p := &spawnedProc{cmd: cmd, done: make(chan error, 1)}
	go func() {
		err := cmd.Wait()
		out.Close()
		errf.Close()
		p.done <- err
	}()
	spawned.Lock()
	if spawned.m[ts] == nil {
		spawned.m[ts] = map[string]*spawnedProc{}
		ts.Defer(func() { reap(ts) })
	}
	spawned.m[ts][name] = p
	spawned.Unlock()
}

// scriptEnv is the script's view of the variables a spawned command reads.
func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"HOME", "TMPDIR", "WORK", "NO_COLOR", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	return env
}

// reap kills what a script left running, so no process outlives its test.
func reap(ts *testscript.TestScript) {
	spawned.Lock()
	procs := spawned.m[ts]
	delete(spawned.m, ts)
	spawned.Unlock()
	for _, p := range procs {
		p.cmd.Process.Kill()
		<-p.done
	}
}

func cmdInterrupt(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: interrupt NAME")
	}
	p := takeSpawned(ts, args[0])
	ts.Check(p.cmd.Process.Signal(os.Interrupt))
	checkExit(ts, neg, args[0], p, 20*time.Second)
}

func cmdAwait(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: await NAME")
	}
	checkExit(ts, neg, args[0], takeSpawned(ts, args[0]), 30*time.Second)
}

func takeSpawned(ts *testscript.TestScript, name string) *spawnedProc {
	spawned.Lock()
	p := spawned.m[ts][name]
	delete(spawned.m[ts], name)
	spawned.Unlock()
	if p == nil {
		ts.Fatalf("no spawned process %q", name)
	}
	return p
}

// checkExit waits for p and fails the script unless it exited 0 (or, with
// neg, unless it exited non-zero).
func checkExit(ts *testscript.TestScript, neg bool, name string, p *spawnedProc, timeout time.Duration) {
	var err error
	select {
	case err = <-p.done:
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		ts.Fatalf("%s did not exit within %s", name, timeout)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		ts.Fatalf("%s: %v", name, err)
	}
	switch {
	case err != nil && !neg:
		ts.Fatalf("%s exited with %v", name, err)
	case err == nil && neg:
		ts.Fatalf("%s exited 0, want a failure", name)
	}
}

func cmdWaitfor(ts *testscript.TestScript, neg bool, args []string) {
	count, timeout := 1, 20*time.Second
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		k, v, _ := strings.Cut(args[0], "=")
		var err error
		switch k {
		case "-count":
			count, err = strconv.Atoi(v)
		case "-timeout":
			timeout, err = time.ParseDuration(v)
		default:
			ts.Fatalf("waitfor: unknown flag %s", k)
		}
		ts.Check(err)
		args = args[1:]
	}
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfor [-count=N] [-timeout=DUR] FILE REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(ts.MkAbs(args[0]))
		if len(re.FindAllIndex(b, -1)) >= count {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfor: %s did not match %q %d times within %s; it holds:\n%s", args[0], args[1], count, timeout, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}
