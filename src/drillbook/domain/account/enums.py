"""Closed vocabularies of accounts: who may do what in the web app."""

from __future__ import annotations

from enum import StrEnum


class AccountRole(StrEnum):
    """What an account may do. Ordered from most to least power; every role but admin is
    confined to its own team's records."""

    ADMIN = "admin"
    FACILITATOR = "facilitator"
    MEMBER = "member"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_least(self, other: AccountRole) -> bool:
        return self.rank >= other.rank


_RANKS = {
    AccountRole.VIEWER: 0,
    AccountRole.MEMBER: 1,
    AccountRole.FACILITATOR: 2,
    AccountRole.ADMIN: 3,
}
