"""Workjet gateway: authenticate, scan, route, limit and audit requests to AI models."""

from gateway.app import create_app

__all__ = ["create_app"]
