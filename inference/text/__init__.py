"""Words: describing the photo (`captioner`), the character card (`card`), prompts, the
character's lines batched and checked (`lines`, `guard`), the dialogue model with its fast
decoding path (`dialogue`, `fast_decoding`, `streaming`), and the engines that run them: this
process's models (`engine`) or an OpenAI-compatible server (`remote_engine`).

May import the shared modules of `inference` only (not `voice`, `face` or `serving`)."""
