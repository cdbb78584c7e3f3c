"""Blog feeds: fetch, parse, find what is new, render it, and poll every followed feed once."""
