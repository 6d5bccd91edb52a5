"""The `photo-talk` command: run the bot, chat in a terminal, or upgrade the database."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bot.ops.logs import configure_logging
from bot.settings import Settings
from inference.errors import ModelUnavailable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="photo-talk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the Telegram bot (long polling, or a webhook)")
    chat = commands.add_parser("chat", help="talk with the person in PHOTO in this terminal")
    chat.add_argument("photo", type=Path)
    chat.add_argument("--lang", choices=["zh", "en"], help="default: follow your writing")
    chat.add_argument(
        "--out", type=Path, help="folder for the talking picture (default: next to PHOTO)"
    )
    chat.add_argument("--no-image", action="store_true", help="do not draw the talking picture")
    chat.add_argument(
        "--voice", action="store_true", help="also speak each line into an .ogg (TTS_MODEL)"
    )
    chat.add_argument(
        "--video", action="store_true", help="also write the talking video (MP4) of the first line"
    )
    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="apply the migrations")
    args = parser.parse_args(argv)

    settings = Settings()
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    keys = (settings.llm_api_key, settings.tts_api_key, settings.asr_api_key)
    password = settings.database_password
    secrets = [token, password.get_secret_value() if password else ""]
    secrets += [key.get_secret_value() for key in keys if key is not None]
    configure_logging(settings.log_level, secrets, message_text=settings.log_message_text)
    try:
        return _run(args, settings)
    except ModelUnavailable as exc:
        print(exc, file=sys.stderr)  # one line: which model, why, what to do
        return 1


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "chat":
        logging.getLogger().setLevel(logging.WARNING)  # the terminal is the conversation
        from bot.cli.terminal import ChatOptions, run_chat

        return run_chat(
            settings,
            ChatOptions(
                args.photo,
                args.lang,
                args.out,
                draw=not args.no_image,
                voice=args.voice,
                video=args.video,
            ),
        )
    if args.command == "db":
        from storage.migrate import upgrade_database

        upgrade_database(settings.database)
        return 0
    if settings.telegram_bot_token is None:
        print("TELEGRAM_BOT_TOKEN is not set (see README).", file=sys.stderr)
        return 2
    if (problem := settings.webhook_problem()) is not None:
        print(problem, file=sys.stderr)
        return 2
    from bot.app import run_bot

    return run_bot(settings)


if __name__ == "__main__":
    sys.exit(main())
