"""The AI core: photos, words, voices and faces, with no Telegram and no database.

`actor.Actor` is the facade the bot and the terminal chat call. Below it, one way down:
`serving/` (the text and media lanes, model loading, hub access, devices) → `text/`,
`voice/`, `face/` (one capability each; they never import each other or `serving`) → the
shared modules here (`types`, `errors`, `config`, `images`, `language`, `writing`,
`cleaning`, `retrying`). May import torch,
transformers, diffusers, Pillow, PyAV and OpenCV; never telegram, sqlalchemy, bot or storage.
"""
