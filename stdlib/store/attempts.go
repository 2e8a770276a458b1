package store

import (
	"context"
	"fmt"

	"github.com/llmpipe/llmpipe/runtime"
)

// attemptOp is a LogAttempt on its way to the writer.
type attemptOp struct {
	args  []any // the insert's arguments, finish and version last
	key   string
	reply string
	usage runtime.Usage
	entry bool // a call's own reply: it may hold its PutResponse's entry

	put *putOp // the put it holds, set by the writer (pairPuts)
}

// attemptCols is the attempt insert's column list, in LogAttempt's order.
const attemptCols = `run_id, step, item, attempt, rung, model, request_key, prompt, reply, status, error,
	prompt_tokens, output_tokens, cached_tokens, thinking_tokens, cost, latency_ns, cached, at, job,
	system, cache, feedback, finish, version`

// LogAttempt journals a. It does not wait for the write: the attempt goes
// into the next transaction (an attempt lost in a crash is made again
// anyway). It blocks only while the write queue is full.
func (s *Store) LogAttempt(ctx context.Context, a *runtime.Attempt) error {
	if a == nil {
		return fmt.Errorf("journaling attempt: nil attempt")
	}
	att := &attemptOp{
		args: []any{runRef(a.RunID), a.Step, a.Item, a.Attempt, a.Rung, a.Model, keyArg(a.RequestKey),
			a.Prompt, a.Reply, a.Status, a.Error,
			a.Usage.PromptTokens, a.Usage.OutputTokens, a.Usage.CachedTokens, a.Usage.ThinkingTokens,
			a.Cost, int64(a.Latency), boolInt(a.Cached), nanos(a.At), a.Job, a.System, a.Cache, a.Feedback,
			nil, nil},
		key: a.RequestKey, reply: a.Reply, usage: a.Usage,
		entry: !a.Cached && a.Status == "ok" && a.RequestKey != "",
	}
	err := s.enqueue(ctx, &op{att: att, groupable: true, apply: func(t *txn) error { return s.writeAttempt(t, att) }})
	if err != nil {
		return fmt.Errorf("journaling attempt %d of %s/%s: %w", a.Attempt, a.Step, a.Item, err)
	}
	return nil
}

// writeAttempt inserts the attempt; holding a put, it is the key's entry.
func (s *Store) writeAttempt(t *txn, att *attemptOp) error {
	args := att.args
	n := len(args)
	args[n-2], args[n-1] = nil, nil // finish, version: not an entry
	if put := att.put; put != nil {
		args[n-2] = put.p.resp.FinishReason
		if v := put.p.resp.ModelVersion; v != args[5] { // NULL: the model's
			args[n-1] = v
		}
		if put.may {
			if err := s.clearEntries(t, put.key); err != nil {
				return err
			}
			if _, err := t.exec(s.ws.dropResponse, args[6]); err != nil {
				return err
			}
		}
	}
	res, err := t.exec(s.ws.attempt, args...)
	if err != nil || att.put == nil {
		return err
	}
	// Found by its id until Close puts it in cache_keys. Should the
	// transaction fail, the id holds nothing (or another key: the entry
	// queries check the key), a miss.
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	s.responses.setAttempt(att.key, id)
	return nil
}

// pairPuts pairs each put in batch with the attempt that follows it for
// the same call (same key, same reply), so the reply is written once, in
// the attempt. A put whose attempt is not in the batch yet (the writer
// took the queue between the two) waits for the next batch, once, unless
// the batch must leave nothing behind (final, or a Flush in it): it
// returns the batch without those puts, and the puts.
func pairPuts(batch []*op, final bool) (rest, carry []*op) {
	var puts map[string]*op
	barrier := final
	for _, o := range batch {
		switch {
		case o.barrier:
			barrier = true
		case o.put != nil:
			if puts == nil {
				puts = map[string]*op{}
			}
			if prev := puts[o.put.key]; prev != nil {
				prev.put.noCarry = true // it must be written before this one
			}
			puts[o.put.key] = o
		case o.att != nil && o.att.entry && puts != nil:
			if p := puts[o.att.key]; p != nil && p.put.claims(o.att) {
				p.put.claimed, o.att.put = true, p.put
				delete(puts, o.att.key)
			}
		}
	}
	if barrier || len(puts) == 0 {
		return batch, nil
	}
	rest = batch[:0]
	for _, o := range batch {
		if put := o.put; put != nil && !put.claimed && !put.carried && !put.noCarry {
			put.carried = true
			carry = append(carry, o)
			continue
		}
		rest = append(rest, o)
	}
	return rest, carry
}

// unpair undoes pairPuts, for ops written one by one.
func unpair(batch []*op) {
	for _, o := range batch {
		if o.put != nil {
			o.put.claimed = false
		}
		if o.att != nil {
			o.att.put = nil
		}
	}
}
