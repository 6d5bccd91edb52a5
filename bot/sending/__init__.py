"""Everything the bot sends to Telegram: the Bot API calls (`bot_api`), drafts while a line is
written, the status note, and a character's line with its voice, picture and video, each
stored before or linked after it is sent. Handlers call these; nothing here handles updates."""
