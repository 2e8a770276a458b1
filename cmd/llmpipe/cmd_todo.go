package main

import "context"

func cmdDev(ctx context.Context, env *cmdEnv, args []string) int {
	env.errorf("dev: not built yet")
	return exitError
}

func cmdPlan(ctx context.Context, env *cmdEnv, args []string) int {
	env.errorf("plan: not built yet")
	return exitError
}

func cmdBench(ctx context.Context, env *cmdEnv, args []string) int {
	env.errorf("bench: not built yet")
	return exitError
}
