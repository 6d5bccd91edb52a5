"""The face that talks: finding it (`finder`), repainting its mouth (`painter`), pictures and
videos of it speaking (`animation`, `video`), the speech bubble and its fonts (`bubble`,
`fonts`), and the safety checker for painted pictures (`safety`).

May import the shared modules of `inference` only (not `text`, `voice` or `serving`)."""
