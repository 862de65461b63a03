"""Who is calling and what they may do: users, tokens, API keys, permissions; one Principal per request."""
