"""The three picks of a search from its Pareto front: most accurate, fastest and fittest.

**Picks** (from the Pareto front of every feasible candidate evaluated):

* *most accurate*: highest validation accuracy;
* *fastest*: lowest estimated latency among the front's candidates that beat chance (1/classes)
  -- a network that answers one class is fast and useless (the paper's "fastest" number model
  scored 2.18 %, paper-facts §4.4); if none beats chance, the fastest of the front;
* *fittest*: highest lab fitness ``0.6 acc + 0.2 min(1, 100 kB / ROM) + 0.2 min(1, 1 mJ / E)``
  (:func:`spoken100.nas.costs.candidate_fitness`, central energy estimate), so "fittest" means what
  it meant in the lab. The fitness grows with accuracy and falls with flash and energy (which is
  proportional to latency), so its maximum always lies on the front.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spoken100.nas.nsga import pareto_front

ROLES = ("most accurate", "fastest", "fittest")


#: Published variant behind each role, and the published model name prefix per task.
ROLE_VARIANTS = {"most accurate": "accurate", "fastest": "fastest", "fittest": "fittest"}


def pick_roles(records: Sequence[dict[str, Any]], n_classes: int) -> dict[str, str]:
    """Genome id of the most accurate, fastest and fittest candidate on the Pareto front (see the module docstring)."""
    front_ids = pareto_front(records)
    if not front_ids:
        return {}
    by_id = {r["genome_id"]: r for r in records}
    front = [by_id[i] for i in front_ids]
    accurate = max(front, key=lambda r: (r["val_accuracy"], -r["latency_ms"], -r["flash_bytes"], r["genome_id"]))
    useful = [r for r in front if r["val_accuracy"] > 1.0 / n_classes] or front
    fastest = min(useful, key=lambda r: (r["latency_ms"], -r["val_accuracy"], r["flash_bytes"], r["genome_id"]))
    fittest = max(front, key=lambda r: (r["fitness"], r["val_accuracy"], -r["latency_ms"], r["genome_id"]))
    return {"most accurate": accurate["genome_id"], "fastest": fastest["genome_id"], "fittest": fittest["genome_id"]}
