"""The scenario schema: what a ``scenarios/*.toml`` file may say, validated by pydantic.

Every timer is a field whose default is the documented NT 4.0 value from
``shared/domain-facts.md``, with its source beside it. Fields that depend on the kind of
link (dial times, latency, the name path's readiness lag) come from a profile
(``sim.scenario.profiles``) that a file may override field by field. Unknown keys are errors. No
field sets the probability of error 53: it has to emerge from these timers.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from sender.codes import (
    ERROR_FROM_DEVICE,
    ERROR_LINE_BUSY,
    ERROR_PPP_NO_ADDRESS_ASSIGNED,
    ERROR_PPP_TIMEOUT,
)
from sender.policy import Jitter
from sim.draws.distributions import Distribution, Duration
from sim.draws.units import parse_duration, shorten
from sim.scenario.bounds import FLEET_STATISTICS, RATE_KEY, STATISTICS, Bound, Kind, parse_bound
from sim.scenario.fleet_spec import FleetSpec
from sim.scenario.policy_fields import FIELDS as POLICY_FIELD_LIST
from sim.scenario.policy_fields import check_model

__all__ = [
    "FAULT_KINDS",
    "FaultKind",
    "MILESTONES",
    "ExpectRealSpec",
    "ExpectSpec",
    "FaultSpec",
    "LinkSpec",
    "NamePathSpec",
    "NetbtSpec",
    "PhaseFailure",
    "PolicyTable",
    "RasSpec",
    "Scenario",
    "SearchSpec",
    "SenderSpec",
    "SmbSpec",
    "TcpSpec",
    "Warmup",
]

#: Caps that a typo could blow past (issue: "a trial count that would take days").
MAX_TRIALS = 10_000_000  # ~3 hours on one core: more is a typo, or a job for sweep --precision
MAX_SEED = 2**63 - 1


class _Strict(BaseModel):
    # strict: a quoted number (attempts_per_dial = "6") is a type error, as TOML users
    # expect, not silently read as 6; durations and bounds parse their text before this.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
def _code(value: object) -> int:
    # Checked before pydantic's int coercion, so that `true` is not read as code 1.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise ValueError(f"codes must be positive integers such as 53, got {shorten(value)}")
    return value


#: A Win32 or RAS error code.
Code = Annotated[int, BeforeValidator(_code)]

#: Most codes a list may hold; checked before the codes themselves, so a huge list is
#: refused at once rather than after one error per element.
MAX_CODES = 1000


def _few(value: object) -> object:
    if isinstance(value, list | tuple) and len(value) > MAX_CODES:
        raise ValueError(f"{len(value):,} codes; list at most {MAX_CODES:,}")
    return value


#: A list of codes, at most ``MAX_CODES`` long.
Codes = Annotated[list[Code], BeforeValidator(_few)]


# --- sender and policy --------------------------------------------------------------------
class PolicyTable(_Strict):
    """A retry policy written as a table: an optional preset plus overriding fields.

    Durations carry units here like everywhere else in a scenario file.
    """

    preset: str | None = None
    name: str | None = None
    attempts_per_dial: int | None = None
    settle: Duration | None = None
    initial_wait: Duration | None = None
    backoff_base: float | None = Field(default=None, allow_inf_nan=False)
    max_wait: Duration | None = None
    jitter: Jitter | None = None
    deadline: Duration | None = None
    retry_on: Codes | None = None
    redial_after: int | None = None
    redial_on: Codes | None = None
    max_dials: int | None = None
    redial_wait: Duration | None = None
    site_backoff: Duration | None = None
    site_retries: int | None = None
    budget_tokens: int | None = None
    budget_ratio: float | None = Field(default=None, allow_inf_nan=False)


# Rule 2 of sim.scenario.policy_fields: the table has every policy field, in order.
check_model(PolicyTable, tuple(f.name for f in POLICY_FIELD_LIST), extra=("preset",))


class SenderSpec(_Strict):
    """The SMS site server that dials out, and where it connects to."""

    server: str = "DSSMS"  # the remote site server, as in the Q235753 Sender.log lines
    share: str = "SMS_SITE"  # SMS 2.0 senders map \\SERVER\SMS_SITE (Q125453)
    site: str = "MS1"
    entry: str = "BOSTON #INTER"  # SNA RAS phonebook "number": <remote LU alias> <mode>
    user: str = "DOMAIN\\smsaddr"
    password: str | None = Field(default=None, repr=False)  # never traced or printed
    start: Duration = 0.0
    policy: str | PolicyTable = "pre-fix"

    @field_validator("policy", mode="before")
    @classmethod
    def _policy_form(cls, value: Any) -> Any:
        # Without this, `policy = 3` gets one pydantic error per union branch ("valid
        # string", "valid dictionary or instance of PolicyTable") and no fix.
        if isinstance(value, str | dict | PolicyTable):
            return value
        raise ValueError(
            f"expected a preset name or a table, got {shorten(value)}; write e.g. policy = "
            "\"connras-fix\" (see `rassim presets`) or policy = { preset = \"connras-fix\", "
            "max_dials = 3 }"
        )

    @field_validator("server", "share")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not value or "\\" in value or "/" in value:
            raise ValueError("write the bare name (e.g. DSSMS), without slashes")
        return value

    @property
    def remote(self) -> str:
        return f"\\\\{self.server}\\{self.share}"


# --- RAS server ---------------------------------------------------------------------------
class PhaseFailure(_Strict):
    """A dial phase fails with probability ``rate``, with a code drawn from ``codes``."""

    rate: Probability = 0.0
    codes: Codes = Field(default_factory=lambda: [ERROR_FROM_DEVICE])

    @model_validator(mode="after")
    def _codes_when_failing(self) -> PhaseFailure:
        if self.rate > 0 and not self.codes:
            raise ValueError("a phase that can fail needs at least one code in codes")
        return self


class RasSpec(_Strict):
    """The remote RAS server and the dial: a shared port pool and three dial phases."""

    ports: int = Field(default=1, ge=1, le=1000)
    # Busy line or port in use (Q196077): ERROR_LINE_BUSY, ERROR_PORT_NOT_AVAILABLE. A
    # Literal needs the numbers themselves; tests/scenario checks they are those two codes.
    no_port_code: Literal[676, 633] = ERROR_LINE_BUSY
    busy_after: Duration = 2.0  # [I] time until a busy signal is reported
    predialed: Duration | None = None  # the RASDIAL-first workaround: up this long before t=0
    connect: Distribution
    authenticate: Distribution
    project: Distribution
    authenticate_timeout: Duration = 120.0  # [C] Q139300 (240 s recommended for SNA RAS)
    connect_failure: PhaseFailure = PhaseFailure()
    authenticate_failure: PhaseFailure = PhaseFailure(codes=[ERROR_PPP_TIMEOUT])
    project_failure: PhaseFailure = PhaseFailure(codes=[ERROR_PPP_NO_ADDRESS_ASSIGNED])
    hangup: Duration = 1.0  # [I] RasHangUp returns before the port is free; ~1 s


# --- link and name path -------------------------------------------------------------------
class Warmup(_Strict):
    """Latency is multiplied by 1 + (factor - 1) * exp(-age / decay) after the link comes up."""

    factor: float = Field(default=1.0, ge=1.0, le=1000.0, allow_inf_nan=False)
    decay: Duration = 30.0

    @field_validator("decay")
    @classmethod
    def _positive(cls, value: float) -> float:
        # The multiplier divides by decay: zero is no warm-up, which is factor = 1.
        if value < 0.001:
            raise ValueError("decay must be at least 1ms; for no warm-up set factor = 1")
        return value


class LinkSpec(_Strict):
    """The path between sender and remote site once RAS is connected."""

    latency: Distribution  # one way, drawn per message
    rate_bps: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    warmup: Warmup = Warmup()


class NamePathSpec(_Strict):
    """How long after Connected the remote name (WINS, routes) answers: drawn per connection."""

    lag: Distribution


class NetbtSpec(_Strict):
    """NetBT name resolution timers (NT 4.0 defaults)."""

    name_query_timeout: Duration = 1.5  # [C] NameSrvQueryTimeout, Q219357, Q314053
    name_query_count: int = Field(default=3, ge=1, le=100)  # [C] NameSrvQueryCount, Q314053
    bcast_query_timeout: Duration = 0.75  # [C] BcastQueryTimeout, Q314053
    bcast_query_count: int = Field(default=3, ge=0, le=100)  # [C] BcastNameQueryCount, Q314053
    broadcast_fallback: bool = True  # [C] h-node: WINS, then broadcast (Q119493)
    cache_timeout: Duration = 600.0  # [C] CacheTimeout 10 min, Q119493


class TcpSpec(_Strict):
    """TCP connect to port 139."""

    initial_rto: Duration = 3.0  # [C] initial SYN retransmission timeout, Q200770
    max_connect_retransmissions: int = Field(default=3, ge=0, le=20)  # [C] NT4, Q200770


class SmbSpec(_Strict):
    """NetBIOS session and SMB exchanges; the server's readiness is set by faults."""

    session_timeout: Duration = 45.0  # [C] Redirector SessTimeOut, Q102067
    server_think: Duration = 0.01  # [I] server processing per request


# --- faults -------------------------------------------------------------------------------
#: The fault kinds, defined once: the scenario's ``[[faults]] kind``, search's ``kinds``, the
#: world's fault actions and the plots' colours all use this type.
FaultKind = Literal[
    "link_outage",
    "latency_spike",
    "wins_unavailable",
    "server_paused",
    "share_missing",
    "ports_held",
    "bad_credentials",
]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
MILESTONES = ("start", "dial", "connected", "first_map")
_AT = re.compile(
    r"^\s*(?:(?P<milestone>[a-z_]+)\s*(?:\+\s*(?P<offset>.+?))?|(?P<absolute>.+?))\s*$"
)


class FaultSpec(_Strict):
    """One fault: a scheduled window (``at``) or a stochastic process (``mean_interval``).

    ``at`` is an absolute time (``"30s"``) or a milestone plus an offset (``"connected + 2s"``;
    milestones: start, dial, connected, first_map, each the first time it happens).
    ``probability`` makes a scheduled fault happen in only that fraction of trials.
    """

    kind: FaultKind
    name: str | None = None
    at: str | None = None
    mean_interval: Duration | None = None
    duration: Distribution | None = None
    probability: Probability = 1.0
    factor: float = Field(default=10.0, ge=1.0, le=1e4, allow_inf_nan=False)  # latency_spike
    ports: int = Field(default=1, ge=1, le=1000)  # ports_held

    @field_validator("at")
    @classmethod
    def _valid_at(cls, value: str | None) -> str | None:
        if value is not None:
            parse_at(value)
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> FaultSpec:
        if (self.at is None) == (self.mean_interval is None):
            raise ValueError(
                "give exactly one of at (a scheduled window, e.g. \"connected + 2s\") or "
                "mean_interval (a Poisson process, e.g. \"30m\")"
            )
        if self.mean_interval is not None and self.mean_interval < 1.0:
            # Faster than one a second would flood every trial with fault events: a typo.
            raise ValueError("mean_interval must be at least 1s")
        if self.mean_interval is not None and self.duration is None:
            raise ValueError("a stochastic fault needs a duration")
        return self

    @property
    def label(self) -> str:
        return self.name or f"{self.kind}@{self.at or 'every ' + str(self.mean_interval) + 's'}"

    def schedule(self) -> tuple[str, float]:
        """(milestone, offset seconds) of a scheduled fault."""
        assert self.at is not None
        return parse_at(self.at)


def parse_at(text: str) -> tuple[str, float]:
    """``"connected + 2s"`` -> ("connected", 2.0); ``"30s"`` -> ("start", 30.0)."""
    match = _AT.match(text)
    if match and match.group("milestone") in MILESTONES:
        offset = match.group("offset")
        return match.group("milestone"), parse_duration(offset) if offset else 0.0
    try:
        return "start", parse_duration(text)
    except ValueError:
        raise ValueError(
            f"cannot read at = {shorten(text)}; write a time (\"30s\") or a milestone plus an "
            "offset "
            f"(\"connected + 2s\"); milestones: {', '.join(MILESTONES)}"
        ) from None



# --- expectations (rassim check, the pytest plugin) -----------------------------------------
def _parse_bounds(value: Any, kind: Kind) -> tuple[Bound, ...]:
    """One ``[expect]`` entry: a bound string, or a list of them (a range)."""
    items = value if isinstance(value, list | tuple) else [value]
    if not items:
        raise ValueError("an empty list states nothing; write e.g. \">= 0.99\" or remove the "
                         "key")
    return tuple(item if isinstance(item, Bound) else parse_bound(item, kind) for item in items)


_ONE_BOUND = {"type": "string", "pattern": r"^\s*(>=|<=|>|<)\s*\S.*$"}
_BOUNDS_JSON = WithJsonSchema(
    {"anyOf": [_ONE_BOUND, {"type": "array", "items": _ONE_BOUND, "minItems": 1}]})
_BOUNDS_AS_TEXT = PlainSerializer(lambda bounds: [b.text for b in bounds], return_type=list[str])

RateBounds = Annotated[tuple[Bound, ...], BeforeValidator(partial(_parse_bounds, kind="rate")),
                       _BOUNDS_AS_TEXT, _BOUNDS_JSON]
DurationBounds = Annotated[tuple[Bound, ...],
                           BeforeValidator(partial(_parse_bounds, kind="duration")),
                           _BOUNDS_AS_TEXT, _BOUNDS_JSON]
CountBounds = Annotated[tuple[Bound, ...], BeforeValidator(partial(_parse_bounds, kind="count")),
                        _BOUNDS_AS_TEXT, _BOUNDS_JSON]


_UNITS = {"rate": 'a fraction or a percentage, e.g. ">= 0.99"',
          "duration": 'a duration with a unit, e.g. "<= 60s"', "count": 'a number, e.g. "<= 1.5"'}


def _expect_field(key: str) -> Any:
    kind, meaning = STATISTICS[key]
    return Field(default=None, description=f"{meaning}; bound(s) with {_UNITS[kind]}")


def _rate_keys_only(schema: dict[str, Any]) -> None:
    # Extra keys are rate_<code> only: say so, so that editors flag a misspelt statistic.
    schema["patternProperties"] = {RATE_KEY.pattern: schema.pop("additionalProperties")}
    schema["additionalProperties"] = False


class ExpectSpec(_Strict):
    """What a scenario must demonstrate, checked by ``rassim check`` and ``pytest``.

    Each entry bounds one statistic of the run: ``success_rate = ">= 0.99"``, or a list of
    bounds for a range: ``rate_53 = [">= 0.05", "<= 0.5"]``. ``rate_<code>`` bounds the share
    of trials that gave up with final ``code``. Rates are fractions (``"0.001"``) or
    percentages (``"0.1%"``); times carry units (``"60s"``). A bound holds only when the
    statistic's whole 95% interval lies on its side ("demonstrated at 95% confidence").
    ``trials`` and ``seed`` override the scenario's for the check. The table is not inherited
    through ``extends``: each file states its own expectations.
    """

    model_config = ConfigDict(extra="allow", frozen=True, json_schema_extra=_rate_keys_only)
    __pydantic_extra__: dict[str, RateBounds]
    _order: tuple[str, ...] = PrivateAttr(default=())  # the keys as the file wrote them

    trials: int | None = Field(default=None, ge=1, le=MAX_TRIALS,
                               description="trials to run for the check (default: the "
                               "scenario's)")
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED,
                             description="seed for the check (default: the scenario's)")
    success_rate: RateBounds | None = _expect_field("success_rate")
    p50_connect_time: DurationBounds | None = _expect_field("p50_connect_time")
    p90_connect_time: DurationBounds | None = _expect_field("p90_connect_time")
    p95_connect_time: DurationBounds | None = _expect_field("p95_connect_time")
    p99_connect_time: DurationBounds | None = _expect_field("p99_connect_time")
    attempts_mean: CountBounds | None = _expect_field("attempts_mean")
    dials_mean: CountBounds | None = _expect_field("dials_mean")
    line_time_mean: DurationBounds | None = _expect_field("line_time_mean")
    sender_success_rate: RateBounds | None = _expect_field("sender_success_rate")
    work_mean: CountBounds | None = _expect_field("work_mean")
    busy_rate: RateBounds | None = _expect_field("busy_rate")
    port_utilization: RateBounds | None = _expect_field("port_utilization")

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        # extra="allow" admits rate_<code>; anything else is a typo, reported at its own key
        # (so the loader can name its line) with the keys that are allowed.
        if not isinstance(data, dict):
            return data
        unknown = [key for key in data
                   if key not in cls.model_fields and not RATE_KEY.match(str(key))]
        if unknown:
            raise ValidationError.from_exception_data(cls.__name__, [
                InitErrorDetails(type=PydanticCustomError(
                    "unknown_expectation",
                    f"unknown key {shorten(key)}; bound one of {', '.join(STATISTICS)} or "
                    "rate_<code> (e.g. rate_53), or set trials or seed"),
                    loc=(key,), input=data[key])
                for key in unknown])
        return data

    @model_validator(mode="wrap")
    @classmethod
    def _remember_order(cls, data: Any, handler: Any) -> Any:
        spec = handler(data)
        if isinstance(data, dict):
            spec._order = tuple(str(key) for key in data)
        return spec

    @model_validator(mode="after")
    def _states_something(self) -> ExpectSpec:
        if not self.items():
            raise ValueError("states no expectation; add one such as success_rate = "
                             "\">= 0.99\", or remove the [expect] table")
        return self

    def items(self) -> list[tuple[str, Bound]]:
        """``(statistic, bound)`` pairs in the order the file wrote them."""
        extra = self.__pydantic_extra__ or {}
        keys = [*STATISTICS, *extra]
        # Written keys first, in file order; then any set programmatically.
        ordered = [key for key in self._order if key in keys]
        ordered += [key for key in keys if key not in ordered]
        found = [(key, extra[key] if key in extra else getattr(self, key)) for key in ordered]
        return [(key, bound) for key, bounds in found if bounds is not None
                for bound in bounds]


class ExpectRealSpec(_Strict):
    """What ``rassim real`` must demonstrate: real against simulated, paired trial by trial.

    Judged with the ``[expect]`` rule (``sim.check.expect``): only an interval wholly on the
    right side of the bound passes. ``rate_diff`` and ``connect_diff`` bound the size of a
    paired difference (real - simulated) from both sides: the whole interval must lie in
    [-margin, +margin], an equivalence test.
    """

    trials: int | None = Field(default=None, ge=1, le=100_000,
                               description="real trials to run (default: 100)")
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED,
                             description="seed of the paired runs (default: the scenario's)")
    scale: float | None = Field(default=None, ge=1, le=1000, allow_inf_nan=False,
                                description="time scale k: real = model / k (default: 10)")
    agreement: RateBounds | None = Field(
        default=None, description="share of trials whose real and simulated outcome and final "
        "code agree (Wilson 95% interval)")
    rate_diff: RateBounds | None = Field(
        default=None, description="largest |real - simulated| success or final-code rate, "
        "paired (Newcombe 95% interval); e.g. \"<= 0.05\"")
    connect_diff: DurationBounds | None = Field(
        default=None, description="|mean paired difference| in time to connect, trials where "
        "both connected (normal 95% interval); e.g. \"<= 3s\"")

    @model_validator(mode="after")
    def _states_something(self) -> ExpectRealSpec:
        if self.agreement is None and self.rate_diff is None and self.connect_diff is None:
            raise ValueError("states no expectation; add agreement = \">= 0.95\", rate_diff or "
                             "connect_diff, or remove the [expect_real] table")
        return self


# --- search bounds (rassim search) ----------------------------------------------------------
_DEFAULT_KINDS: tuple[FaultKind, ...] = ("link_outage",)


class SearchSpec(_Strict):
    """The space ``rassim search`` explores for a fault schedule that defeats the sender.

    Each candidate schedule has 1 to ``max_faults`` faults of the listed ``kinds``, each
    starting within ``window`` (two times, absolute or from one milestone:
    ``["connected", "connected + 1m"]``) and lasting within ``durations``, on millisecond
    grids. It is tried on one of ``trials`` (trial indices of ``seed``). Smaller is simpler:
    fewer faults, then shorter, then earlier.
    """

    kinds: list[FaultKind] = Field(default_factory=lambda: list(_DEFAULT_KINDS), min_length=1,
                                   max_length=len(FAULT_KINDS),
                                   description="fault kinds to try (default link_outage)")
    max_faults: int = Field(default=2, ge=1, le=10, description="faults per schedule, at most")
    # strict=False: a TOML array arrives as a list; the tuple only fixes its length.
    window: tuple[str, str] = Field(default=("0s", "2m"), strict=False,
                                    description="earliest and latest start of a fault")
    durations: tuple[Duration, Duration] = Field(default=(1.0, 30.0), strict=False,
                                                 description="shortest and longest fault")
    trials: list[int] = Field(default_factory=lambda: [0], min_length=1, max_length=100,
                              description="trial indices to search on (default [0])")
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED,
                             description="run seed (default: the scenario's)")
    codes: Codes | None = Field(default=None, description="count only give-ups with "
                                     "these final codes (default: any give-up)")

    @field_validator("window")
    @classmethod
    def _valid_window(cls, value: tuple[str, str]) -> tuple[str, str]:
        (first, early), (second, late) = parse_at(value[0]), parse_at(value[1])
        if first != second:
            raise ValueError(f"both ends must count from the same milestone, got {first!r} and "
                             f"{second!r}; e.g. [\"connected\", \"connected + 1m\"]")
        if late < early:
            raise ValueError("the latest start comes before the earliest; swap them")
        if late - early > 86400:
            raise ValueError("a window longer than a day is surely a typo; narrow it")
        return value

    @field_validator("durations")
    @classmethod
    def _valid_durations(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] < 0.001:
            raise ValueError("the shortest fault must last at least 1ms")
        if value[1] < value[0]:
            raise ValueError("the longest fault is shorter than the shortest; swap them")
        if value[1] > 86400:
            raise ValueError("a fault longer than a day is surely a typo")
        return value

    @field_validator("trials")
    @classmethod
    def _valid_trials(cls, value: list[int]) -> list[int]:
        for trial in value:
            if isinstance(trial, bool) or not 0 <= trial < MAX_TRIALS:
                raise ValueError(f"trial indices are whole numbers from 0, got {shorten(trial)}")
        if len(set(value)) != len(value):
            raise ValueError("a trial index is listed twice; list each once")
        return value

    @property
    def milestone(self) -> str:
        """The milestone both ends of ``window`` count from (``start`` for absolute times)."""
        return parse_at(self.window[0])[0]

    @property
    def window_seconds(self) -> tuple[float, float]:
        """``window`` as offsets in seconds from ``milestone``."""
        return parse_at(self.window[0])[1], parse_at(self.window[1])[1]


# --- the scenario -------------------------------------------------------------------------
class Scenario(_Strict):
    """A whole scenario file after ``extends`` and the link profile are applied."""

    name: str = "scenario"
    description: str = ""
    profile: Literal["sna", "async", "isdn"] = "sna"
    seed: int = Field(default=221951, ge=0, le=MAX_SEED)
    trials: int = Field(default=10_000, ge=1, le=MAX_TRIALS)
    sender: SenderSpec = SenderSpec()
    ras: RasSpec
    link: LinkSpec
    name_path: NamePathSpec
    netbt: NetbtSpec = NetbtSpec()
    tcp: TcpSpec = TcpSpec()
    smb: SmbSpec = SmbSpec()
    faults: list[FaultSpec] = Field(default_factory=list, max_length=1000)
    expect: ExpectSpec | None = Field(
        default=None, description="bounds `rassim check` and `pytest` demonstrate (not "
        "inherited through extends)")
    search: SearchSpec | None = Field(
        default=None, description="the fault schedules `rassim search` explores")
    expect_real: ExpectRealSpec | None = Field(
        default=None, description="bounds `rassim real` demonstrates: the real stack paired "
        "with the simulation")
    fleet: FleetSpec | None = Field(
        default=None, description="many senders against one RAS server in each trial")

    @model_validator(mode="after")
    def _fleet_fits(self) -> Scenario:
        if self.fleet is not None and self.ras.predialed is not None:
            raise ValueError("ras.predialed (the manual RASDIAL workaround) applies to a lone "
                             "sender; remove it or the [fleet] table")
        if self.fleet is None and self.expect is not None:
            lone = [key for key in FLEET_STATISTICS if getattr(self.expect, key) is not None]
            if lone:  # reported at the key itself, so the loader can name its line
                raise ValidationError.from_exception_data(type(self).__name__, [
                    InitErrorDetails(type=PydanticCustomError(
                        "fleet_statistic",
                        "bounds a fleet statistic, and this scenario has no [fleet] table; "
                        "remove the bound or add the table"),
                        loc=("expect", key), input=str(getattr(self.expect, key)))
                    for key in lone])
        return self

    def public_dict(self) -> dict[str, Any]:
        """The scenario as plain data with credentials redacted (for provenance output).

        ``expect``, ``expect_real`` and ``search`` are left out: they state claims about the
        world and ways to probe it, not the world, so adding them leaves the scenario's
        sha256 unchanged.
        """
        data = self.model_dump(mode="json", exclude={"expect", "search", "expect_real"})
        if data["fleet"] is None:
            del data["fleet"]  # a lone sender's world, and its sha256, as before fleets
        if data["sender"].get("password") is not None:
            data["sender"]["password"] = "***"
        return data
