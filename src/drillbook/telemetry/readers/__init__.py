"""Readers that turn recorded telemetry (JSON lines, Windows EVTX) into flat Sigma events."""
