// Package catalog is llmpipe's built-in table of Gemini models: what each
// costs per token, the smallest context cache it accepts, and its published
// quotas per billing tier. The table is data (models.json, embedded) rather
// than code because prices and limits change; a pipeline's model block
// overrides any value. The package also prices a call and a cache's storage.
package catalog
