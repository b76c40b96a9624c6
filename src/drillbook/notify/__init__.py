"""Notification adapters."""
