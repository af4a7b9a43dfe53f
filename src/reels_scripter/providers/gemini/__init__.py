"""The Gemini provider: `options` (light: settings only), `transport` (client, retries, Files API),
`request` (what is asked and how the reply is read), `provider` (the two glued to the shared
write flow). Nothing is imported here, so reading Gemini's options never loads the SDK."""
