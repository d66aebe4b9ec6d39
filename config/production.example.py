# Example deployment overrides, read when REVERSE_CONFIG names this file.
# Secrets belong in the environment (REVERSE_SECRET_KEY, REVERSE_SMTP_PASSWORD), not here.
ENV = "production"
PUBLIC_BASE_URL = "https://returns.example.jp"
MAIL_BACKEND = "smtp"
MAIL_FROM = "Example Brand 返品センター <returns@example.jp>"
SMTP_HOST = "smtp.example.jp"
SMTP_PORT = 587
SMTP_STARTTLS = True
LOGIN_RATE_LIMIT = "10 per minute"
OUTBOX_REDELIVER_AFTER = 60
