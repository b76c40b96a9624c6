"""The program domain."""
