"""Authentication: API keys and (with the auth work) sessions, OAuth and device login."""
