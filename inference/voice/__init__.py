"""Sound: speaking a line in a character's voice (`tts`), hearing a voice note (`asr`), the
audio codecs (`codecs`: OGG/Opus and friends through PyAV), and choosing a voice (`voices`).

May import the shared modules of `inference` only (not `text`, `face` or `serving`)."""
