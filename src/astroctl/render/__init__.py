"""The one render layer: results become tables, JSON or markdown; the stream policy."""
