// Package catalog is llmpipe's built-in table of Gemini models: what each
// costs per token, the smallest context cache it accepts, and its published
// quotas per billing tier. The table is data (models.json, embedded) rather
// than code because prices and limits change.
//
// A Book (book.go) is the one place that answers a program's price and
// quota questions: a model block's own setting over the table's entry over
// the default tier. `llmpipe run`, `plan`, reload and the cache manager
// all ask a Book; the package also prices a call and a cache's storage.
package catalog
