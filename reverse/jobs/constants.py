"""Queue names and outbox states."""

import enum


class QueueName(enum.StrEnum):
    LABELS = "labels"
    NOTIFICATIONS = "notifications"
    WEBHOOKS = "webhooks"
    DEFAULT = "default"


#: the order a worker listens in when no queue is named: labels first, people wait for them
ALL_QUEUES = (QueueName.LABELS, QueueName.NOTIFICATIONS, QueueName.WEBHOOKS, QueueName.DEFAULT)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # committed, not yet handed to a queue (or handing failed)
    ENQUEUED = "enqueued"  # handed to RQ; the job has not finished
    DONE = "done"
    FAILED = "failed"  # gave up after OUTBOX_MAX_ATTEMPTS
