"""The finding domain."""
