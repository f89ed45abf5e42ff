"""What leaves the platform: in-app notifications, e-mail and signed webhooks (sent as jobs)."""
