"""The Model Context Protocol server: an admin agent runs the three passes through it.

:mod:`drillbook.mcp.server` builds the server; the tools are split by domain
(``tools_library``, ``tools_exercise``, ``tools_findings``, ``tools_drills``) and stay thin:
they parse input, call the same services and flows as the CLI and the web app, and return
the typed read models in :mod:`drillbook.mcp.schemas`. :mod:`drillbook.mcp.http` serves
the same server over streamable HTTP at the web app's ``/mcp``, behind API tokens.
"""
