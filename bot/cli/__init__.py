"""The `photo-talk` command (`main`) and the terminal chat it can start, with its spinner."""
