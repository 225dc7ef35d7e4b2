"""The two kinds of import problem: a whole file we cannot read, and one bad row among good ones."""

from typing import TypedDict


class RowError(TypedDict):
    source: str
    line: int
    message: str


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not JSON, wrong CSV header, binary, too big): nothing is written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def row_error(source: str, line: int, message: str) -> RowError:
    return {"source": source, "line": line, "message": message}
