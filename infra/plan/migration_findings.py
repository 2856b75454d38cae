"""What `guruai-cache migrations check` reports: one finding per line, naming the file (or the
Worker's statement), what is wrong and the fix."""

from __future__ import annotations

from dataclasses import dataclass

# Where docs/deploying.md explains a breaking schema change in two deploys (the fixes point there).
TWO_DEPLOYS = "docs/deploying.md#a-breaking-schema-change-in-two-deploys"


@dataclass(frozen=True)
class Finding:
    where: str  # a migration file's name, the integrity file's, or a Worker's statement
    statement: str  # the statement (shortened), or "" when the finding is about the whole file
    problem: str
    fix: str

    def line(self) -> str:
        statement = f" `{self.statement}`" if self.statement else ""
        return f"{self.where}:{statement} {self.problem}; fix: {self.fix}"


def short(sql: str, limit: int = 80) -> str:
    """A statement on one line, cut to `limit` characters: enough to find it in the file."""
    flat = " ".join(sql.split()).rstrip(";")
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
