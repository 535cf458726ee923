"""Workjet's terminal client: a Textual app that talks only to the configured gateway."""
