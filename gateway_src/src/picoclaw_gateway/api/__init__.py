"""The OpenAI-compatible automation API (POST /v1/chat/completions, GET /v1/models), off by default."""
