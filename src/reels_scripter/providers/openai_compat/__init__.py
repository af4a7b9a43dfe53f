"""The OpenAI-compatible provider: `options` (light: settings only) and `provider` (the SDK).
Nothing is imported here, so reading its options never loads the `openai` SDK."""
