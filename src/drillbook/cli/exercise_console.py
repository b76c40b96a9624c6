"""The observer's console behind ``drillbook exercise run``, and the status panel.

On a terminal it is a live view: the panel (clock, phase, injects due, roles) redraws every
second above the line being typed, and each line entered is logged at once. Fed from a
pipe or a file (scripts, tests) it reads line by line and prints the panel after each
command. Either way each line is its own transaction, so a killed console loses nothing
that was already entered; the clock lives in the stored events, not here.
"""

from __future__ import annotations

import os
import select
import sys
from collections import deque

from rich.console import Group
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from drillbook.cli.console_backlog import CONSOLE_WAIT_S, Backlog, unavailable
from drillbook.cli.output import console, print_error, real_console
from drillbook.clip import clip
from drillbook.domain.exercise import service
from drillbook.domain.exercise.evaluation import offsets
from drillbook.domain.exercise.models import Exercise, ExerciseEvent
from drillbook.domain.exercise.timeline import format_offset
from drillbook.errors import DrillbookError
from drillbook.flows.exercise_console import HELP, handle_line
from drillbook.storage.engine import Store

LEFT = "left the console; the exercise keeps its clock"
BACKLOG = Backlog()  # one console per process


def status_panel(exercise: Exercise, *, full: bool = False) -> Panel:
    """The live view's panel; injects are clipped to a line (with an ellipsis) unless
    ``full``."""
    width = 100_000 if full else 90
    clock = service.clock_of(exercise)
    lines = [
        f"[bold]{exercise.label}[/bold] {escape(exercise.title)} ({escape(exercise.scenario_id)})",
        f"status: {exercise.status}   clock: [bold]{format_offset(clock.elapsed)}[/bold]"
        + (
            f"   remaining: {format_offset(clock.remaining).removeprefix('T+')}"
            if clock.remaining is not None and clock.remaining.total_seconds() > 0
            else ""
        ),
    ]
    if clock.phase:
        behind = (
            f" (schedule says {clock.scheduled_phase.label})"
            if clock.scheduled_phase and clock.scheduled_phase != clock.phase
            else ""
        )
        lines.append(f"phase: {clock.phase.label}{behind}")
    for due in clock.due:
        lines.append(
            f"[yellow]inject {due.number} due since T+{due.inject.time}[/yellow]: "
            f"{escape(clip(due.inject.description, width))}"
        )
    due_in = clock.next_due_in  # the first inject not yet due, past those waiting
    if clock.upcoming is not None and due_in is not None:
        lines.append(
            f"next inject {clock.upcoming.number} in {format_offset(due_in).removeprefix('T+')}"
        )
    roles = service.current_roles(exercise)
    if roles:
        lines.append("roles: " + ", ".join(f"{r}={p}" for r, p in roles.items()))
    return Panel("\n".join(lines), title="drillbook exercise", expand=False)


def logged_line(exercise: Exercise, event: ExerciseEvent) -> str:
    """One line saying what was logged and at what exercise time."""
    offset = format_offset(offsets(exercise.events)[event.id])
    phase = f" [{event.phase}]" if event.phase else ""
    text = f": {clip(event.text, 100)}" if event.text else ""
    return f"{exercise.label} {offset}{phase} {event.kind}{text}"


def process_line(store: Store, exercise_id: int, line: str, who: str) -> tuple[list[str], bool]:
    """Handle one typed line in its own transaction: (messages to show, leave?). While the
    store is away the line is kept and written later (see console_backlog)."""
    return BACKLOG.handle(line, lambda text: _store_line(store, exercise_id, text, who))


def _store_line(store: Store, exercise_id: int, line: str, who: str) -> tuple[list[str], bool]:
    with store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        outcome = handle_line(session, exercise, line, who)
        messages = [logged_line(exercise, outcome.event)] if outcome.event else []
    if outcome.message:
        messages.append(outcome.message)
    return messages, outcome.quit


def _panel(store: Store, exercise_id: int) -> Panel:
    try:
        with store.session() as session:
            return status_panel(service.get_exercise(session, exercise_id))
    except DrillbookError as exc:
        if not unavailable(exc):
            raise
        return Panel(f"waiting for the store: {escape(str(exc))}", title="drillbook exercise")


def _prompt(store: Store, exercise_id: int) -> str:
    try:
        with store.session() as session:
            now = service.clock_of(service.get_exercise(session, exercise_id))
    except DrillbookError as exc:
        if not unavailable(exc):
            raise
        return f"(waiting for the store, {len(BACKLOG)} kept) > "
    return f"{format_offset(now.elapsed)}{f' {now.phase}' if now.phase else ''} > "


def _leave() -> None:
    """Say which kept lines could not be stored before the console ends."""
    for line in BACKLOG.unsaved():
        print_error(line)


def run_session(store: Store, exercise_id: int, who: str) -> None:
    """The console: live on a terminal, line by line otherwise."""
    # a typed line waits briefly for a locked store, then is kept (see console_backlog)
    store.timeout = min(store.timeout, CONSOLE_WAIT_S)
    try:
        if sys.stdin.isatty() and console.is_terminal and os.name == "posix":
            _run_live(store, exercise_id, who)
        else:
            _run_lines(store, exercise_id, who)
    finally:
        if len(BACKLOG):
            shown, _ = BACKLOG.flush(lambda text: _store_line(store, exercise_id, text, who))
            for message in shown:
                console.print(message, markup=False)
        _leave()


def _run_lines(store: Store, exercise_id: int, who: str) -> None:
    console.print(_panel(store, exercise_id))
    console.print(HELP, style="dim", markup=False)
    while True:
        console.print(_prompt(store, exercise_id), end="", markup=False)
        try:
            line = sys.stdin.readline()
        except KeyboardInterrupt:
            line = ""
        if not line:
            console.print(f"\n{LEFT}", markup=False)
            return
        messages, leave = process_line(store, exercise_id, line, who)
        for message in messages:
            if message.startswith("error: "):
                print_error(message)
            else:
                console.print(message, markup=False)
        command = line.strip().startswith("/")
        if command and not leave and not any(m.startswith("error: ") for m in messages):
            console.print(_panel(store, exercise_id))
        if leave:
            return


def _run_live(store: Store, exercise_id: int, who: str) -> None:
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    log: deque[str] = deque([HELP], maxlen=10)
    typed = ""

    def view() -> Group:
        return Group(
            _panel(store, exercise_id),
            Text("\n".join(log), style="dim"),
            Text(_prompt(store, exercise_id) + typed + "_"),
        )

    try:
        tty.setcbreak(fd)
        with Live(
            view(), console=real_console(console), auto_refresh=False, transient=False
        ) as live:
            while True:
                ready, _, _ = select.select([fd], [], [], 1.0)
                if ready:
                    chunk = os.read(fd, 1024).decode("utf-8", errors="replace")
                    if not chunk:
                        break
                    for char in chunk:
                        if char in ("\r", "\n"):
                            messages, leave = process_line(store, exercise_id, typed, who)
                            typed = ""
                            log.extend(messages)
                            if leave:
                                live.update(view(), refresh=True)
                                return
                        elif char in ("\x7f", "\b"):
                            typed = typed[:-1]
                        elif char == "\x04":  # Ctrl-D
                            return
                        elif char.isprintable():
                            typed += char
                live.update(view(), refresh=True)
    except KeyboardInterrupt:
        pass
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        console.print(LEFT, markup=False)
