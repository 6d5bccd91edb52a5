"""Running the models: two lanes, text and media (`lanes`), each a worker thread that
batches jobs (`worker`), with a CPU pool beside them; loading every model once (`loading`),
where model files come from (`hub`) and which device runs them (`device`).

May import `text`, `voice` and `face` (to load their models) and the shared modules; the
worker itself knows only jobs, never what a model does."""
