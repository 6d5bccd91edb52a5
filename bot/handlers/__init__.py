"""Telegram callbacks, one module per thing a user does."""
