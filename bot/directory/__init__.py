"""The network directory: chapters and projects, their records, import formats, store, search index and service."""
