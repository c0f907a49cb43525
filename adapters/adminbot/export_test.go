package adminbot

// WebhookSecret exposes a webhook's secret token to tests.
func WebhookSecret(h *Webhook) string { return h.secret }
