// Package adapters groups the edges of salesbot: Telegram accounts (gotd),
// the admin bot (telego), the LLM (go-openai) and the in-process sandbox.
// Each arrives with its own issue as a subpackage.
package adapters
