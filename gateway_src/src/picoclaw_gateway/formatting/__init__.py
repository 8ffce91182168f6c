"""Replies in each platform's own format: markdown parsed once (markdown.py), written per platform
(render.py), split into messages that stay within the platform's limit (split.py)."""
