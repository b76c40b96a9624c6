"""Who is asking: the signed session cookie turned into a :class:`Principal`.

The cookie holds only ids (``account`` or ``invitation``) and the CSRF token; the account
or invitation is read again on every request, so a disabled account or an exercise that
has ended takes effect at once. The rules of who may see what are in
:mod:`drillbook.domain.account.access`, not here.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from drillbook.domain.account.access import Principal
from drillbook.domain.account.enums import AccountRole
from drillbook.domain.account.models import Account, Invitation
from drillbook.domain.account.service import audit, get_account, invitation_usable
from drillbook.domain.exercise.models import Exercise
from drillbook.web.app import SignInRequired
from drillbook.web.security import new_csrf_token


def session_data(request: Request) -> dict[str, Any]:
    data = request.scope.get("session")
    return data if isinstance(data, dict) else {}


def csrf_token(request: Request) -> str:
    return str(session_data(request).get("csrf", ""))


def principal_or_none(request: Request, session: Session) -> Principal | None:
    data = session_data(request)
    account_id = data.get("account")
    if isinstance(account_id, int):
        account = get_account(session, account_id)
        return None if account is None else principal_of_account(account)
    invitation_id = data.get("invitation")
    if isinstance(invitation_id, int):
        invitation = session.get(Invitation, invitation_id)
        if invitation is None:
            return None
        if not invitation_usable(invitation, session.get(Exercise, invitation.exercise_id)):
            return None
        return principal_of_invitation(invitation)
    return None


def signed_in(request: Request, session: Session) -> Principal:
    who = principal_or_none(request, session)
    if who is None:
        raise SignInRequired("sign in first (or open your invitation link again)")
    request.state.principal = who
    return who


def principal_of_account(account: Account) -> Principal:
    return Principal(
        name=account.display_name,
        role=AccountRole(account.role),
        team=account.team,
        username=account.username,
        account_id=account.id,
    )


def principal_of_invitation(invitation: Invitation) -> Principal:
    return Principal(
        name=invitation.display_name,
        invitation_id=invitation.id,
        exercise_id=invitation.exercise_id,
        seat=invitation.seat,
    )


def start_session(request: Request, **ids: int) -> None:
    """A fresh session (new CSRF token) for an account or an invitation."""
    data = session_data(request)
    data.clear()
    data.update(ids)
    data["csrf"] = new_csrf_token()


def end_session(request: Request) -> None:
    session_data(request).clear()


def remote_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def record_change(
    request: Request,
    session: Session,
    who: Principal | str,
    action: str,
    target: str | None = None,
    **detail: Any,
) -> None:
    """One line in the append-only audit log for a change made through the web."""
    audit(
        session,
        actor=who if isinstance(who, str) else who.label,
        action=action,
        target=target,
        remote=remote_of(request),
        detail={**detail, "user_agent": request.headers.get("user-agent", "")[:200]},
    )
