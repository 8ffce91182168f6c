"""`picoclaw doctor`: is the config valid, and do the provider and the platforms accept it?

`run.py` orchestrates, `llm.py` asks the LLM provider (key, model: never a chat request),
`platforms.py` asks Telegram/Discord/Slack (token), `report.py` prints one line per check.
"""

from picoclaw_gateway.doctor.run import DEFAULT_DEADLINE_S, run

__all__ = ["DEFAULT_DEADLINE_S", "run"]
