"""Sign in, sign out, and join an exercise through an invitation link."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from drillbook.domain.account.service import authenticate, redeem_invitation
from drillbook.errors import AccessDenied
from drillbook.web.app import context, templates
from drillbook.web.auth import csrf_token, end_session, record_change, start_session

router = APIRouter(include_in_schema=False)


async def form_fields(request: Request) -> dict[str, str]:
    """A urlencoded form as a dict (first value of each field)."""
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "login.html", {"csrf": csrf_token(request), "error": None, "username": ""}
    )


@router.post("/login")
async def login(request: Request) -> Response:
    fields = await form_fields(request)
    username = fields.get("username", "")[:100]
    web = context(request)
    try:
        with web.writing() as session:
            account = authenticate(session, username, fields.get("password", ""))
            account_id = account.id
            record_change(request, session, account.username, "sign_in")
    except AccessDenied as exc:
        with web.writing() as session:
            record_change(request, session, f"unknown:{username}", "sign_in_failed")
        return templates.TemplateResponse(
            request,
            "login.html",
            {"csrf": csrf_token(request), "error": str(exc), "username": username},
            status_code=403,
        )
    start_session(request, account=account_id)
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    end_session(request)
    return RedirectResponse("/login", status_code=303)


@router.get("/join/{token}")
def join(request: Request, token: str) -> Response:
    """An invitation link: a session for that one seat of that one exercise."""
    with context(request).writing() as session:
        invitation = redeem_invitation(session, token[:100])
        exercise_id, invitation_id = invitation.exercise_id, invitation.id
        record_change(
            request,
            session,
            f"guest:{invitation.display_name}",
            "join",
            f"EX-{exercise_id}",
            seat=invitation.seat,
        )
    start_session(request, invitation=invitation_id)
    return RedirectResponse(f"/exercises/{exercise_id}", status_code=303)
