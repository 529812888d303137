"""``util.progress``: a bar on a terminal only; logs, pipes and tests get the items as is."""

from __future__ import annotations

import io
import sys

from musebench.util import progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    assert list(progress(iter(range(5)), "read x")) == [0, 1, 2, 3, 4]
    assert stream.getvalue() == ""


def test_a_bar_on_a_terminal(monkeypatch):
    stream = _Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    assert list(progress(range(3), "score", 3)) == [0, 1, 2]
    assert "score:" in stream.getvalue() and "/3" in stream.getvalue()  # cleared when done
