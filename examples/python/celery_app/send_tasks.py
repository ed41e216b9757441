"""Queues N of each task: python3 send_tasks.py N"""
import sys

from tasks import resize_avatar, send_welcome_email

count = int(sys.argv[1]) if len(sys.argv) > 1 else 30
for i in range(count):
    send_welcome_email.delay(i)
    resize_avatar.delay(i)
print("queued %d send_welcome_email and %d resize_avatar" % (count, count), flush=True)
