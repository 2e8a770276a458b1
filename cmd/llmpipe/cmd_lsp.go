package main

import (
	"context"

	"github.com/llmpipe/llmpipe/cmd/llmpipe/internal/lsp"
)

func cmdLSP(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "lsp", "[--stdio]", `
Serve the Language Server Protocol on standard input and output, for
editors: diagnostics from the same checker as 'llmpipe check' while you
type, hover, completion, go to definition, find references, formatting,
document symbols, did-you-mean quick fixes and semantic tokens.

Editors start it themselves; see the README's "Editor support" section for
VS Code, Neovim and Helix. --stdio is accepted (and the default) because
editors' clients add it.

Example (Neovim, in init.lua):
  vim.lsp.start({ name = "llmpipe", cmd = { "llmpipe", "lsp" } })`)
	fs.Bool("stdio", true, "talk over standard input and output (the only transport)")
	debounce := fs.Duration("debounce", lsp.DefaultDebounce, "wait this long after an edit before checking again")
	if _, code, ok := parseArgs(env, fs, args); !ok {
		return code
	}
	if err := lsp.Serve(ctx, env.stdin, env.stdout, lsp.Options{Debounce: *debounce, Version: version}); err != nil {
		env.errorf("lsp: %v", err)
		return exitError
	}
	return exitOK
}
