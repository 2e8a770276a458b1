// Package bench runs the benchmark scenarios of the design's benchmarks.md
// (S1–S10) and turns each into a table of figures against its targets.
//
// The simulator is the ground truth. It runs as a separate process (the
// llmpipe binary's `sim` subcommand) so that the client's CPU, allocations
// and memory are measured without the server's; every rate, 429 count and
// duplicate is read from the simulator's /stats and request log, never from
// the client's own counters. The pipeline itself runs in this process
// through the root package, as `llmpipe run` would run it.
//
// Time is compressed: Env.Window is the simulated minute for both the
// simulator and the client's pacer, and latencies scale with it, so the
// ratios reported do not depend on the scale.
package bench
