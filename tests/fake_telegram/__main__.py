"""``python -m tests.fake_telegram --vendor`` rewrites the vendored method spec."""

from .spec import main

main()
