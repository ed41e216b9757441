"""A Celery app with the classic "Celery does not release memory" bug.

    taskmem run --max-tasks 60 -- python3 -m celery -A tasks worker -P prefork -c 2
    python3 send_tasks.py 30        # in another terminal

The broker is redis on 127.0.0.1:6379 unless CELERY_BROKER_URL says otherwise.
"""
import os

from celery import Celery

app = Celery("tasks", broker=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"))
app.conf.update(task_ignore_result=True, worker_prefetch_multiplier=1, worker_hijack_root_logger=False,
                broker_connection_retry_on_startup=True)

_sent_log = []


def render_email(user_id):
    return ("Welcome, user %d!\n" % user_id) * 2000


@app.task
def send_welcome_email(user_id):
    body = render_email(user_id)
    # The leak: every rendered email is kept "for auditing" in a module-level list.
    _sent_log.append(body)
    return len(body)


@app.task
def resize_avatar(user_id):
    # Clean: plenty of temporaries, nothing kept.
    pixels = [[(user_id + x + y) % 256 for x in range(64)] for y in range(64)]
    return sum(map(sum, pixels))
