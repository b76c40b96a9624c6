"""Report rendering: Markdown and HTML from Jinja2 templates, PDF through the ``pdf`` extra."""
