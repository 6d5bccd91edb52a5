"""What operators run and watch: the HTTP server (webhook, /healthz, /metrics), the metrics
themselves, and logging with secrets redacted."""
