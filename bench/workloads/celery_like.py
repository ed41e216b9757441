"""A Celery-like Python worker for ``npm run bench``: a broker queue of JSON messages, a task
registry, a worker loop that decodes each message, sends ``task_prerun`` / ``task_postrun`` (Celery's
own signals when Celery is installed, see _taskmarks.py), runs the task and encodes a result, the
way a Celery prefork child does between the broker and the task. Task mix: an ORM-like lookup and
update over dicts, a report rendered to text, a small CSV import, a cache with eviction.
One untimed warm-up message goes first (see _taskmarks.warm_up); the loop times the others.
Prints  TASKMEM_BENCH {"loopSec": ..., "tasks": ...}
Usage: python3 bench/workloads/celery_like.py [messages=2000]
"""
import collections
import csv
import io
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _taskmarks import USING, run_task, task, warm_up  # noqa: E402

MESSAGES = int(sys.argv[1]) if len(sys.argv) > 1 else 1000

DB = {i: {"id": i, "email": "user%d@example.com" % i, "balance": i * 3, "orders": []} for i in range(5000)}
CACHE = collections.OrderedDict()


@task
def charge_customer(customer_id, amount):
    row = DB[customer_id % len(DB)]
    row["balance"] -= amount
    row["orders"].append({"amount": amount, "at": time.time()})
    del row["orders"][:-5]
    return {"id": row["id"], "balance": row["balance"]}


@task
def render_invoice(customer_id, lines):
    row = DB[customer_id % len(DB)]
    items = [("item-%d" % i, (i * 7) % 50 + 1, ((i * 13) % 100) / 4.0) for i in range(lines)]
    body = ["Invoice for %s" % row["email"]]
    body.extend("%-12s %3d x %8.2f = %10.2f" % (n, q, p, q * p) for n, q, p in items)
    body.append("Total: %.2f" % sum(q * p for _, q, p in items))
    return len("\n".join(body))


@task
def import_csv(rows):
    text = "\n".join("%d,name-%d,%d.5,%s" % (i, i, i, "x" * (i % 20)) for i in range(rows))
    parsed = [dict(id=int(r[0]), name=r[1], score=float(r[2]), note=r[3]) for r in csv.reader(io.StringIO(text))]
    return sum(p["score"] for p in parsed)


@task
def cached_lookup(key):
    value = CACHE.get(key)
    if value is None:
        value = CACHE[key] = [key * i for i in range(200)]
        if len(CACHE) > 256:
            CACHE.popitem(last=False)
    return len(value)


REGISTRY = {t.name: t for t in (charge_customer, render_invoice, import_csv, cached_lookup)}


def broker(n):
    names = sorted(REGISTRY)
    for i in range(n):
        name = names[i % len(names)]
        args = {"charge_customer": [i, 5], "render_invoice": [i, 400], "import_csv": [1000], "cached_lookup": [i % 400]}[name]
        yield json.dumps({"id": str(uuid.UUID(int=i)), "task": name, "args": args, "retries": 0})


def handle(message, results):
    message = json.loads(message)
    t = REGISTRY[message["task"]]
    value = run_task(t, message["id"], *message["args"])
    results.append(json.dumps({"id": message["id"], "status": "SUCCESS", "result": value}, default=str))
    del results[:-100]


def main():
    queue = collections.deque(broker(MESSAGES + 1))
    results = []
    warm_up(lambda: handle(queue.pop(), results))
    t0 = time.perf_counter()
    while queue:
        handle(queue.popleft(), results)
    loop = time.perf_counter() - t0
    sys.stdout.write("TASKMEM_BENCH %s\n" % json.dumps({"loopSec": loop, "tasks": MESSAGES, "marks": USING}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
