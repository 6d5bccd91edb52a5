"""The Telegram bot: handlers, sending, settings, the command line and wiring (`app.py`).

May import `inference` and `storage`; the only package that knows Telegram."""
