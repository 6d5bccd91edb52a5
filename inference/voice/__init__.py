"""Sound: speaking a line in a character's voice (`tts`: the contract; `kokoro_tts`, the
default, with `phonemes` for its G2P; `bark_tts`), hearing a voice note (`asr`), both on their
own servers (`servers`), the audio codecs (`codecs`: OGG/Opus and friends through PyAV), and
choosing a voice (`voices`).

May import the shared modules of `inference` only (not `text`, `face` or `serving`)."""
