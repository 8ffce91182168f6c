"""Protocol-level fakes of the services the gateway talks to (aiohttp + stdlib only).

- telegram_api.FakeTelegram: Telegram Bot API (long polling, sendMessage, flood control)
- openai_api.FakeOpenAI: OpenAI-compatible chat completions (OpenAI, OpenRouter)
- anthropic_api.FakeAnthropic: Anthropic Messages API
- discord_api.FakeDiscord, slack_api.FakeSlack: Discord gateway + REST, Slack Web API + Socket Mode
- llm_script: scripted replies (text, tool calls, errors, delays) shared by the LLM fakes

Each runs in-process (`await Fake(...).start()`) or standalone (`python -m tests.fakes.<module>`);
`python -m tests.fakes simulator` runs them together (Discord and Slack on request) for an out-of-process
test host.
"""
