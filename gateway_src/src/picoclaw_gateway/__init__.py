"""PicoClaw gateway: a lean personal AI assistant for chat apps."""

__version__ = "0.1.0"
