"""Logging set up once: quiet HTTP chatter, and the bot token never written anywhere."""

from __future__ import annotations

import logging
from urllib.parse import quote


class RedactSecrets(logging.Filter):
    """Replaces secrets (the bot token) in every record, whoever logged it."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        # URLs carry the token percent-encoded too (file downloads: "123%3AABC").
        found = {s for s in secrets if s} | {quote(s, safe="") for s in secrets if s}
        self._secrets = sorted(found, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            for secret in self._secrets:
                message = message.replace(secret, "[REDACTED]")
            record.msg, record.args = message, None
        if record.exc_info and record.exc_text is None and record.exc_info[0] is not None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret in self._secrets:
                record.exc_text = record.exc_text.replace(secret, "[REDACTED]")
        return True


# Notices that libraries repeat at every start about what the README already says: without
# torchvision (PyPI's CPU torch has none) image processors use Pillow; offline, the kernels
# hub cannot check the publisher of kernels already cached. Logger name -> what they say.
ROUTINE_NOTICES = {
    "transformers.utils.import_utils": "requires torchvision (not installed); falling back to",
    "kernels._internals.hf_hub": "Skipping publisher trust check for",
}


class DropNotice(logging.Filter):
    """Drops the records of one logger that say `words`; everything else it logs passes."""

    def __init__(self, words: str) -> None:
        super().__init__()
        self._words = words

    def filter(self, record: logging.LogRecord) -> bool:
        return self._words not in record.getMessage()


def quiet_routine_notices() -> None:
    """Filters on the loggers that print ROUTINE_NOTICES (idempotent: added once)."""
    for name, words in ROUTINE_NOTICES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropNotice) for f in logger.filters):
            logger.addFilter(DropNotice(words))


def configure_logging(level: str, secrets: list[str], *, message_text: bool = False) -> None:
    """Log to stderr at `level`, with secrets redacted from every handler's output; without
    `message_text` (LOG_MESSAGE_TEXT) no update or request body is logged, even at DEBUG."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    redact = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    # httpx logs every request URL, which contains the token; PTB's own chatter is noise too.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    quiet_routine_notices()
    if not message_text:
        # At DEBUG these log every update, Bot API call and SQL statement with its parameters
        # (SQLAlchemy's engine logs statements at INFO already).
        floor = logging.getLogger().level
        for name in (
            "telegram.Bot",
            "telegram.ext.ExtBot",
            "telegram.ext.Application",
            "aiosqlite",
        ):
            logging.getLogger(name).setLevel(max(logging.INFO, floor))
        logging.getLogger("sqlalchemy.engine").setLevel(max(logging.WARNING, floor))
