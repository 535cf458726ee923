"""Screens of the terminal client, each with its .tcss beside it."""
