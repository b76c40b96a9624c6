"""The command line (Typer + Rich), one module per noun."""
