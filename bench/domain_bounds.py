"""Worst-case cost of `dlstudy solve`: every template at its domain's upper bounds.

    python bench/domain_bounds.py              # every template
    python bench/domain_bounds.py conv-macs    # some

Each template is solved in a process of its own, with its numbers at the top
of their domain (sizes at their `max`, whole numbers at their `max` or 10^9
when the domain has none, reals at their bound or 10^6, arrays filled to
their sizes): all of them at once, then each alone with the others as seed 1
samples them.
The target (issue 9): every solve finishes within 5 s and 500 MB, or refuses
at once in one line. Reported per template: the outcome, the CPU time and the
peak memory of the process, and the worst of each over all templates.
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = r"""
import json, resource, sys, time
import numpy as np
from dlstudy.engine.templates import get_template
from dlstudy.engine.params import coerce_params
from dlstudy.engine import sampling, solving
from dlstudy.engine.exercises import _typed
from dlstudy.errors import DlstudyError

template = get_template(sys.argv[1])
sampled = sampling.sample(template, 1).params


def top(param):
    d = param.domain
    for bound in (d.maximum, None if d.below is None else d.below - (1 if d.integer else 1e-6)):
        if bound is not None:
            return int(bound) if d.integer else bound
    return 10**9 if d.integer else 1e6


def arrays_for(raw, numbers):
    env = template.env({n: v for n, v in numbers.items()})
    for name, param in template.params.items():
        if param.kind not in ("vector", "matrix", "words"):
            continue
        try:
            shape = [int(env[d]) if isinstance(d, str) else int(d.run(env)) if hasattr(d, "run") else int(d) for d in param.size]
        except Exception:
            raw[name] = _typed(sampled[name])
            continue
        if int(np.prod(shape)) > 10**5:  # more than a student could type: the sizes alone must be refused
            raw[name] = _typed(sampled[name])
        elif param.kind == "words":
            raw[name] = " ".join(param.vocabulary[i % len(param.vocabulary)] for i in range(shape[0]))
        else:
            entry = param.domain.maximum if param.domain.maximum is not None else param.high
            raw[name] = json.dumps(np.full(shape, entry).tolist())


numeric = [n for n, p in template.params.items() if p.kind in ("int", "size", "choice", "real")]
trials = [numeric] + [[n] for n in numeric]  # everything at the top, then each number alone
worst, outcomes = 0.0, []
for at_top in trials:
    numbers = {n: (top(template.params[n]) if n in at_top else sampled[n]) for n in numeric}
    raw = {n: str(v) for n, v in numbers.items()}
    raw.update({n: _typed(sampled[n]) for n, p in template.params.items() if p.kind in ("word", "flag")})
    arrays_for(raw, numbers)
    started = time.process_time()
    try:
        solution = solving.solve(template, coerce_params(template, raw))
        outcome = "answered"
    except DlstudyError as exc:
        outcome = "refused"
    spent = time.process_time() - started
    if spent >= worst:
        worst, worst_case = spent, f"{outcome} with {', '.join(at_top) or 'sampled values'} at the top"
    outcomes.append(outcome)
print(json.dumps({"outcome": f"{outcomes.count('answered')} answered, {outcomes.count('refused')} refused; slowest: {worst_case}",
                  "cpu": worst, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main(ids: list[str]) -> None:
    if not ids:
        from dlstudy.engine.templates import template_ids

        ids = template_ids()
    worst_cpu = worst_mb = 0.0
    print(f"{'template':34} {'cpu s':>7} {'peak MB':>8}  outcome")
    for template_id in ids:
        try:
            result = subprocess.run([sys.executable, "-c", PROBE, template_id], capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            print(f"{template_id:34} {'>120':>7} {'?':>8}  TIMED OUT", flush=True)
            worst_cpu = float("inf")
            continue
        try:
            data = json.loads(result.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            data = {"outcome": "CRASHED: " + (result.stderr.strip().splitlines() or ["?"])[-1][:90], "cpu": 0.0, "peak_mb": 0.0}
        worst_cpu = max(worst_cpu, data["cpu"])
        worst_mb = max(worst_mb, data["peak_mb"])
        print(f"{template_id:34} {data['cpu']:7.2f} {data['peak_mb']:8.0f}  {data['outcome']}", flush=True)
    print(f"worst solve CPU: {worst_cpu:.2f} s (target <= 5 s); largest process: {worst_mb:.0f} MB (target <= 500 MB,"
          " which includes torch's own ~300 MB)")


if __name__ == "__main__":
    main(sys.argv[1:])
