"""Gateway-side web tools (web_search, web_fetch): they need the network, so they never run in the
tools sandbox. Every connection goes through the SSRF guard (guard.py)."""
