"""Static site generator for living evidence summaries."""

__version__ = "0.1.0"
