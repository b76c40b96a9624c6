"""Report rendering: Markdown, HTML, PDF."""
