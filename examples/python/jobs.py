"""Plain Python task functions for the harness:

    taskmem task examples/python/jobs.py#import_rows --runs 10
"""
import functools

_seen_rows = {}


def import_rows(batch_size=500):
    # Leak: a module-level index that is only ever added to.
    start = len(_seen_rows)
    for i in range(start, start + batch_size):
        _seen_rows[i] = {"id": i, "name": "row-%d" % i}
    return len(_seen_rows)


@functools.lru_cache(maxsize=64)
def price_for(sku):
    return [sku * 1.5] * 200


_calls = 0


def quote():
    # Bounded cache: fills during the first runs, then evicts as much as it adds.
    global _calls
    for _ in range(16):
        _calls += 1
        price_for(_calls)
    return _calls
