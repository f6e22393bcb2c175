"""Sweeps: every policy of a grid on the same trials, with paired differences to a baseline.

Rules:

1. Every policy runs trial indices 0..n-1 of one seed (common random numbers), so policy k
   and the baseline form n pairs (``sim.stats.paired``). All accumulators are integers, so the
   result (and its JSON) is bit-identical for any worker count, chunking or executor.
2. A fixed sweep runs ``trials``. An adaptive sweep (``precision``) runs the batches of
   ``sim.stats.adaptive`` and stops when every policy's success-rate half-width is at most
   ``precision`` or at ``max_trials``, which is reported as "precision not reached".
   A decision sweep (``require``) runs the same batches, but each policy stops as soon as
   it is decided (``sim.stats.sequential``: meets or fails the requirement, with the
   Bonferroni correction over the planned looks), so later batches run only the undecided
   policies; a policy still undecided at ``max_trials`` is reported so. Paired differences
   cover the trials a policy shares with the baseline.
3. ``sweep_rows`` is the result as flat dicts, one per policy in grid order, with the same
   columns in every output (table, JSON, CSV, Parquet, plots): ``ROW_COLUMNS`` then the
   policy's fields. Metric ``m`` has columns ``m``, ``m_low``, ``m_high`` (95% interval);
   ``diff`` is the paired difference in success rate, candidate minus baseline;
   ``work_diff`` the paired mean difference in work (map attempts + dials per trial) and
   ``connect_diff`` in time to connect (s; in a fleet, the makespan), over the
   ``connect_pairs`` trials where both connected (``sim.stats.paired`` rule 5).
4. Output files are written to a temporary file and renamed into place (``sim.report.output``
   rule 2); a CSV's provenance goes into its sidecar (``sim.report.sidecar``). The
   provenance says ``complete`` (false for an interrupted sweep, as for ``rassim run``).
   In a row, a policy's code sets (``retry_on``, ``redial_on``) are space-separated
   strings (``"51 53 59"``), and so in JSON and Parquet; a CSV file holds them as JSON lists
   (``[51, 53, 59]``), so that ``pandas.read_csv`` reads them as text, never as a number
   (``sim.report.output`` rule 5).
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.draws.units import shorten
from sim.report.atomic import write_atomic
from sim.report.output import csv_list
from sim.report.sidecar import write_pair
from sim.run.executors import Executor
from sim.run.runner import run_batch
from sim.scenario.limits import work_problem, worst_case_work
from sim.scenario.loader import ScenarioError
from sim.scenario.policy_fields import CODE_FIELDS, POLICY_FIELDS, by_name
from sim.scenario.schema import Scenario
from sim.stats.adaptive import FIRST_BATCH, Precision, batch_ends, half_width, precision_status
from sim.stats.paired import PairCounts, PairedMean
from sim.stats.policy_metrics import METRICS, Tally, metrics_of
from sim.stats.sequential import Decision, Requirement, look_z
from sim.studies.grid import Grid

__all__ = ["ROW_COLUMNS", "SweepResult", "check_grid_work", "run_sweep", "sweep_report",
           "sweep_rows", "write_rows"]

#: The leading columns of every sweep row (rule 3); the policy's fields follow.
ROW_COLUMNS: tuple[str, ...] = (
    "policy", "baseline", "same_as_baseline", "trials", "successes",
    *(f"{m}{suffix}" for m in METRICS for suffix in ("", "_low", "_high")),
    "half_width", "diff", "diff_low", "diff_high", "candidate_only", "baseline_only",
    "work_diff", "work_diff_low", "work_diff_high",
    "connect_diff", "connect_diff_low", "connect_diff_high", "connect_pairs",
)


@dataclass(slots=True)
class SweepResult:
    """What a sweep measured. ``trials`` is per policy (the same for all, rule 1)."""

    grid: Grid
    seed: int
    trials: int
    tallies: list[Tally]
    pairs: list[PairCounts]
    interrupted: bool = False
    work_pairs: list[PairedMean] = field(default_factory=list)
    connect_pairs: list[PairedMean] = field(default_factory=list)
    requested: int | None = None
    precision: Precision | None = None
    max_trials: int | None = None
    checkpoints: list[int] = field(default_factory=list)
    elapsed: float = 0.0
    requirement: Requirement | None = None
    #: Per policy, where it stands after the last batch it ran (``require`` sweeps).
    decisions: list[Decision] = field(default_factory=list)
    #: The z of every look's interval (``sim.stats.sequential`` rule 3).
    look_z: float = 0.0
    looks: int = 0


def check_grid_work(scenario: Scenario, grid: Grid) -> None:
    """``ScenarioError`` with the estimate when a trial under any of the grid's policies could
    take more than ``sim.scenario.limits.MAX_WORK`` steps (refused before any trial runs)."""
    worst = max(grid.policies, key=lambda policy: sum(worst_case_work(scenario, policy)))
    problem = work_problem(scenario, worst)
    if problem is not None:
        raise ScenarioError(f"{grid.path}: policy {shorten(worst.name)}: {problem}")


def run_sweep(scenario: Scenario, grid: Grid, *, seed: int, executor: Executor,
              trials: int | None = None, precision: float | None = None,
              require: Requirement | None = None,
              max_trials: int = 100_000, first_batch: int = FIRST_BATCH,
              on_progress: Callable[[int], None] | None = None,
              on_batch: Callable[[int, Precision | None], None] | None = None) -> SweepResult:
    """Run the grid (rules 1 and 2): exactly one of ``trials`` and ``precision``.

    ``on_progress(n)`` gets policy-trials done; ``on_batch(end, status)`` is called before
    each batch ``[.., end)`` starts (status: the precision after the previous batch).
    """
    if sum(x is not None for x in (trials, precision, require)) != 1:
        raise ValueError("give exactly one of trials, precision and require")
    check_grid_work(scenario, grid)
    if require is not None:
        return _run_decisions(scenario, grid, require, seed=seed, executor=executor,
                              max_trials=max_trials, first_batch=first_batch,
                              on_progress=on_progress, on_batch=on_batch)
    began = time.perf_counter()
    count = len(grid.policies)
    result = SweepResult(grid, seed, 0, [Tally() for _ in range(count)],
                         [PairCounts() for _ in range(count)], requested=trials,
                         work_pairs=[PairedMean() for _ in range(count)],
                         connect_pairs=[PairedMean() for _ in range(count)])
    if precision is not None:
        result.max_trials = max_trials
        ends = list(batch_ends(max_trials, first_batch))
    else:
        assert trials is not None
        ends = [trials]
    for end in ends:
        if on_batch is not None:
            on_batch(end, result.precision)
        batch = run_batch(scenario, grid.policies, seed=seed, start=result.trials, stop=end,
                          executor=executor, baseline=grid.baseline, on_progress=on_progress)
        for mine, theirs in zip(result.tallies, batch.tallies, strict=True):
            mine.merge(theirs)
        assert batch.pairs is not None
        for pair, theirs_pair in zip(result.pairs, batch.pairs, strict=True):
            pair.merge(theirs_pair)
        assert batch.work_pairs is not None and batch.connect_pairs is not None
        for mean, theirs_mean in zip(result.work_pairs, batch.work_pairs, strict=True):
            mean.merge(theirs_mean)
        for mean, theirs_mean in zip(result.connect_pairs, batch.connect_pairs, strict=True):
            mean.merge(theirs_mean)
        result.trials += batch.trials
        if precision is not None and result.trials > 0:
            result.precision = precision_status(
                ((t.summary.successes, t.summary.trials) for t in result.tallies), precision)
            if not batch.interrupted:
                result.checkpoints.append(result.trials)
        if batch.interrupted:
            result.interrupted = True
            break
        if result.precision is not None and result.precision.met:
            break
    result.elapsed = time.perf_counter() - began
    return result


def _run_decisions(scenario: Scenario, grid: Grid, require: Requirement, *, seed: int,
                   executor: Executor, max_trials: int, first_batch: int,
                   on_progress: Callable[[int], None] | None,
                   on_batch: Callable[[int, Precision | None], None] | None) -> SweepResult:
    """Rule 2's decision sweep: each batch runs the policies not yet decided."""
    began = time.perf_counter()
    count = len(grid.policies)
    result = SweepResult(grid, seed, 0, [Tally() for _ in range(count)],
                         [PairCounts() for _ in range(count)],
                         work_pairs=[PairedMean() for _ in range(count)],
                         connect_pairs=[PairedMean() for _ in range(count)],
                         max_trials=max_trials, requirement=require)
    ends = list(batch_ends(max_trials, first_batch))
    result.looks = len(ends)
    result.look_z = z = look_z(len(ends))
    undecided = list(range(count))
    for end in ends:
        if on_batch is not None:
            on_batch(end, None)
        baseline = undecided.index(grid.baseline) if grid.baseline in undecided else None
        batch = run_batch(scenario, [grid.policies[k] for k in undecided], seed=seed,
                          start=result.trials, stop=end, executor=executor,
                          baseline=baseline, on_progress=on_progress)
        for j, k in enumerate(undecided):
            result.tallies[k].merge(batch.tallies[j])
            if batch.pairs is not None:
                assert batch.work_pairs is not None and batch.connect_pairs is not None
                result.pairs[k].merge(batch.pairs[j])
                result.work_pairs[k].merge(batch.work_pairs[j])
                result.connect_pairs[k].merge(batch.connect_pairs[j])
        result.trials += batch.trials
        if batch.interrupted:
            result.interrupted = True
            break
        result.checkpoints.append(result.trials)
        undecided = [k for k in undecided
                     if not Decision.judge(require, result.tallies[k].summary, z).decided]
        if not undecided:
            break
    result.decisions = [Decision.judge(require, tally.summary, z) if tally.summary.trials
                        else Decision("undecided", 0, None, 0.0, float("inf"))
                        for tally in result.tallies]
    result.elapsed = time.perf_counter() - began
    return result


def sweep_rows(result: SweepResult) -> list[dict[str, Any]]:
    """One flat dict per policy, in grid order, columns ``ROW_COLUMNS`` + fields (rule 3)."""
    rows = []
    grid = result.grid
    for k, (policy, tally) in enumerate(zip(grid.policies, result.tallies, strict=True)):
        summary = tally.summary
        metrics = metrics_of(tally)
        same = grid.same_as_baseline(k)
        pair = result.pairs[k]
        diff = pair.difference(identical=same)
        row: dict[str, Any] = {
            "policy": policy.name,
            "baseline": k == grid.baseline,
            "same_as_baseline": same,
            "trials": summary.trials,
            "successes": summary.successes,
        }
        for name in METRICS:
            estimate = metrics[name]
            row[name], row[f"{name}_low"], row[f"{name}_high"] = estimate.as_list()
        row["half_width"] = half_width(summary.successes, summary.trials) if summary.trials \
            else None
        row.update(diff=diff.estimate, diff_low=diff.low, diff_high=diff.high,
                   candidate_only=pair.candidate_only, baseline_only=pair.baseline_only)
        for name, means, scale in (("work_diff", result.work_pairs, 1),
                                   ("connect_diff", result.connect_pairs, 1_000_000_000)):
            mean = means[k].difference(scale=scale, identical=same)
            row[name], row[f"{name}_low"], row[f"{name}_high"] = (
                (mean.estimate, _finite(mean.low), _finite(mean.high)) if mean is not None
                else (None, None, None))
        row["connect_pairs"] = result.connect_pairs[k].n
        if result.decisions:
            row["decision"] = result.decisions[k].verdict
        for name in POLICY_FIELDS:
            value = getattr(policy, name)
            row[name] = " ".join(str(c) for c in sorted(value)) if name in CODE_FIELDS else value
        rows.append(row)
    return rows


def _finite(x: float) -> float | None:
    """An interval end, or None where it is open (one pair only): JSON has no infinity."""
    return x if math.isfinite(x) else None


def sweep_report(result: SweepResult, provenance: dict[str, Any]) -> dict[str, Any]:
    """The JSON-ready report: ``provenance`` keys, the run's shape, then ``policies`` rows.

    Nothing in it depends on timing or on where the trials ran (rule 1).
    """
    grid = result.grid
    warnings = []
    if result.interrupted:
        warnings.append(f"interrupted after {result.trials:,} trials per policy")
    adaptive = None
    if result.max_trials is not None:
        status = result.precision
        adaptive = {
            "precision": status.target if status else None,
            "reached": bool(status and status.met),
            "widest_half_width": status.widest if status else None,
            "widest_policy": grid.policies[status.widest_index].name if status else None,
            "max_trials": result.max_trials,
            "checkpoints": result.checkpoints,
        }
        if status is not None and not status.met and not result.interrupted:
            warnings.append(
                f"precision not reached: the widest half-width is {status.widest:.4%} "
                f"({grid.policies[status.widest_index].name}) after {result.trials:,} trials, "
                f"the --max-trials cap; raise it or relax --precision"
            )
    decision = None
    if result.requirement is not None:
        decision = {
            "require": result.requirement.text,
            "alpha": 0.05,
            "correction": f"Bonferroni over {result.looks} planned looks: each look's "
                          f"interval is two-sided at 1 - 0.05/{result.looks} "
                          f"(z = {result.look_z:.3f})",
            "looks": result.looks,
            "z": result.look_z,
            "max_trials": result.max_trials,
            "checkpoints": result.checkpoints,
            "policies": {policy.name: d.to_dict() for policy, d in
                         zip(grid.policies, result.decisions, strict=True)},
        }
        adaptive = None
        undecided = [p.name for p, d in zip(grid.policies, result.decisions, strict=True)
                     if not d.decided]
        if undecided and not result.interrupted:
            warnings.append(f"undecided at the --max-trials cap of {result.max_trials:,}: "
                            + ", ".join(undecided) + " (too close to the bound to tell; "
                            "raise --max-trials)")
    return {
        **provenance,
        "grid": str(grid.path),
        "decision": decision,
        "seed": result.seed,
        "baseline": grid.policies[grid.baseline].name,
        "trials": result.trials,
        "requested_trials": result.requested,
        "adaptive": adaptive,
        "interrupted": result.interrupted,
        "warnings": warnings,
        "policies": sweep_rows(result),
    }


def _arrow_types() -> dict[str, Any]:
    # why: pyarrow is slow to import (~0.3 s); only Parquet files need it
    import pyarrow as pa

    types: dict[str, Any] = {c: pa.string() for c in ("policy", "decision")}
    types.update({c: pa.bool_() for c in ("baseline", "same_as_baseline")})
    types.update({c: pa.int64() for c in ("trials", "successes", "candidate_only",
                                          "baseline_only", "connect_pairs")})
    # The policy's columns take their type from the one field list (policy_fields rule 3).
    types.update({name: getattr(pa, by_name(name).arrow_type)() for name in POLICY_FIELDS})
    return types  # every other column is a float64 (a None is a null)


def write_rows(path: Path, rows: list[dict[str, Any]], metadata: dict[str, Any],
               option: str = "--out") -> None:
    """Write ``rows`` as CSV or Parquet (by suffix) atomically (rule 4).

    Parquet files carry ``metadata`` as JSON under the key ``rassim``; a CSV carries it in
    its sidecar (``sim.report.sidecar``). The file is rendered in memory first, so a full
    disk's message says how many bytes were needed. Call
    ``sim.report.output.check_output_path`` first, before spending time on trials.
    """
    columns = list(rows[0]) if rows else list(ROW_COLUMNS)
    if path.suffix.lower() == ".parquet":
        # why: pyarrow is slow to import (~0.3 s); only Parquet files need it
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = _arrow_types()
        schema = pa.schema([(c, types.get(c, pa.float64())) for c in columns])
        table = pa.Table.from_pylist(rows, schema=schema)
        table = table.replace_schema_metadata({"rassim": json.dumps(metadata, sort_keys=True)})
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        write_atomic(path, sink.getvalue().to_pybytes(), option)
    else:
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=columns)
        writer.writeheader()
        writer.writerows(
            {**row, **{name: csv_list(row[name], integers=True)
                       for name in CODE_FIELDS if name in row}} for row in rows)
        write_pair(path, text.getvalue().encode("utf-8"), metadata, option)
