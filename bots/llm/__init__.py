"""The chat-model client: OpenAI-compatible calls, their wire format, retries and prices."""
