"""Apuri: a Telegram bot for neighbourhood help."""

__version__ = "0.1.0"
