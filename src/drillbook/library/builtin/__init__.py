"""The built-in scenario library, shipped as package data."""
