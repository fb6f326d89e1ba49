"""The flood rate, as a pure rule: how many reports one reporter may send an installation in a day."""

from __future__ import annotations

import dataclasses

DAY = 86400.0  # the rate's window: the last 24 hours, whatever the time zones of the repositories


@dataclasses.dataclass(frozen=True)
class Rate:
    """A reporter's reports to one installation in the last day, against `floods.reports_per_day`."""

    count: int  # reports in the window, the one being looked at included
    limit: int  # 0: no limit

    @property
    def over(self) -> bool:
        """Whether this report is beyond the rate (the first one beyond it gets the note)."""
        return self.limit > 0 and self.count > self.limit


def window_start(now: float) -> float:
    return now - DAY
