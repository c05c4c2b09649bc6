"""Pure rules of Apuri: no Telegram, no database, no I/O."""
