"""The ``[fleet]`` table: many senders against one RAS server in one trial.

A central site's RAS server has a few ports and one SNA line of fixed capacity, and many
child sites dial in (or one sender serves many sites). A fleet runs ``senders`` copies of
the unchanged sender procedure in one SimPy environment:

* ``arrivals`` says when each starts: all ``together`` at ``[sender] start``, ``uniform``
  over ``window`` after it, or ``poisson`` with exponential gaps of mean ``mean_gap``.
* ``share_ports``: one pool of ``[ras] ports`` for the whole fleet (else each sender has a
  server of its own). ``share_link``: every message crosses one line of
  ``[link] rate_bps``, first come first served (else each sender has a line of its own).
* A connected sender keeps the line for ``transfer`` (its send job) and then hangs up,
  freeing the port for the next site.
* ``shared_budget``: the senders spend from one retry budget (the policy's
  ``budget_tokens``), as one throttle in front of the central server; else one each.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.draws.distributions import Constant, Distribution, Duration

__all__ = ["MAX_SENDERS", "FleetSpec"]

#: Per-trial cost grows linearly with the fleet; past this a value is a typo.
MAX_SENDERS = 1000


class FleetSpec(BaseModel):
    """How many senders, when they start, and what they share (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    senders: int = Field(ge=1, le=MAX_SENDERS)
    arrivals: Literal["together", "uniform", "poisson"] = "together"
    window: Duration = 0.0
    mean_gap: Duration | None = None
    share_ports: bool = True
    share_link: bool = True
    # [I] An SMS package or status batch over 9600 bps takes minutes; no measured source.
    transfer: Distribution = Field(
        default_factory=lambda: Constant.model_validate({"value": "2m"}))
    shared_budget: bool = True

    @model_validator(mode="after")
    def _arrivals_need_their_parameter(self) -> FleetSpec:
        if self.arrivals == "uniform" and self.window <= 0:
            raise ValueError('arrivals = "uniform" needs a window > 0, e.g. window = "10m"')
        if self.arrivals == "poisson" and self.mean_gap is None:
            raise ValueError('arrivals = "poisson" needs mean_gap, e.g. mean_gap = "30s"')
        if self.arrivals == "poisson" and self.mean_gap is not None and self.mean_gap < 0.001:
            raise ValueError("mean_gap must be at least 1ms")
        if self.arrivals != "uniform" and self.window:
            raise ValueError(f'window applies to arrivals = "uniform" only; remove it or set '
                             f'arrivals = "uniform" (arrivals is "{self.arrivals}")')
        if self.arrivals != "poisson" and self.mean_gap is not None:
            raise ValueError(f'mean_gap applies to arrivals = "poisson" only; remove it or set '
                             f'arrivals = "poisson" (arrivals is "{self.arrivals}")')
        return self
