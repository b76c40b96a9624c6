"""Path parameters shared by the routes: ids that are not plain integers in range are
answered 404 (a 30-digit id or a superscript digit used to be a 500)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# exercise and event ids are INTEGER columns: 32 bits on PostgreSQL
MAX_ID = 2_147_483_647
ExerciseId = Annotated[int, Path(ge=1, le=MAX_ID, description="exercise number (EX-3 is 3)")]
EventId = Annotated[int, Path(ge=1, le=MAX_ID, description="timeline event id")]
DrillId = Annotated[str, Path(pattern=r"^[0-9a-f]{1,32}$", description="drill run id")]
