// Package runtime executes a checked pipeline (an interp.Program): it
// streams items from sources through the steps, calls models through a
// Provider, checks every reply, and writes records to sinks, storing each
// result before anyone sees it.
//
// # Shape of a run
//
// Each step is a stage: a bounded queue and a set of worker goroutines.
// Sources feed the stages that read them; a record that succeeds at a step
// goes on to the stages that read that step. Memory is therefore bounded by
// workers and queue depths, never by the number of items. A semaphore
// bounds the calls in flight across all stages (SetWorkers resizes it while
// running), and a Pacer (runtime/quota) paces each model to its quota.
//
// # The item state machine
//
// For one item at one step (item.go, call.go):
//
//	queued → waiting for quota → calling → parsing → checking → done
//
// A rate limit (429) waits for the model's quota and is not an attempt. A
// transient failure (5xx, reset, timeout) retries the same rung after a
// capped, jittered backoff that honours the server's delay. A validation
// failure (the reply does not parse against the schema, or a check is
// false) is an attempt: after escalate_after of them on one rung the item
// climbs to the next model, and the rendered feedback joins the next
// prompt. A fatal error (400, auth, a blocked prompt) fails the item at
// once. When attempts run out the item fails; failed items are records
// too, with every error and the last reply.
//
// # Never losing work
//
// A terminal result is committed to the Store before it is written to a
// sink or counted; items already done under the same step fingerprint are
// resumed from the store, and a request seen before is answered from the
// response cache. The budget reserves each call's worst case before the
// call, so spending never passes it. Drain (the first Ctrl-C) stops taking
// items and lets calls in flight finish; cancelling the context stops them.
//
// # Observing and extending
//
// Observers receive typed Events; Middleware wraps every item (Before,
// After, OnRetry); Stats is a snapshot at any time; Reload swaps the plan
// for items not yet started.
package runtime
