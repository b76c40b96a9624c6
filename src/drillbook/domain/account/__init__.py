"""Accounts, teams, invitations and the web audit log."""
