"""Allocation-heavy Python worker for ``npm run bench``: tasks that parse a JSON batch, build dicts,
lists and strings and keep almost nothing, marked as Celery tasks (see _taskmarks.py). One untimed
warm-up task goes first (see _taskmarks.warm_up); the loop times the others. Prints
    TASKMEM_BENCH {"loopSec": ..., "tasks": ...}
Usage: python3 bench/workloads/alloc_heavy.py [tasks=300] [records=1500]
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _taskmarks import USING, run_task, task, warm_up  # noqa: E402

TASKS = int(sys.argv[1]) if len(sys.argv) > 1 else 300
RECORDS = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
_recent = []  # a small bounded cache


def make_payload(seed):
    return json.dumps([{"id": seed * RECORDS + i, "name": "customer-%d" % ((seed * 31 + i) % 997),
                        "tags": ["a", "b", str(i % 7)], "amount": (i * 13.7) % 1000,
                        "when": 1700000000 + i} for i in range(RECORDS)])


@task
def handle_batch(seed):
    records = json.loads(make_payload(seed))
    by_name = {}
    for r in records:
        b = by_name.get(r["name"])
        if b is None:
            b = by_name[r["name"]] = {"total": 0.0, "count": 0, "tags": set()}
        b["total"] += r["amount"]
        b["count"] += 1
        b["tags"].update(r["tags"])
    lines = ["%s: %d orders, %.2f (%s)" % (n, b["count"], b["total"], ",".join(sorted(b["tags"])))
             for n, b in by_name.items()]
    summary = "\n".join(sorted(lines))
    _recent.append(len(summary))
    del _recent[:-50]
    return len(summary)


def main():
    warm_up(lambda: run_task(handle_batch, "job-warm-up", TASKS))
    t0 = time.perf_counter()
    checksum = 0
    for i in range(TASKS):
        checksum += run_task(handle_batch, "job-%d" % i, i)
    loop = time.perf_counter() - t0
    sys.stdout.write("TASKMEM_BENCH %s\n" % json.dumps({"loopSec": loop, "tasks": TASKS, "checksum": checksum,
                                                        "marks": USING}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
