"""Background work: jobs of every kind (training, batch, campaign) as leased rows, and the
workers that run them."""

from recostack.jobs.queue import ClaimedJob, JobKind, claim_next, enqueue, enqueue_training
from recostack.jobs.training import submit_training
from recostack.jobs.worker import Worker, WorkerThreads, run_worker

__all__ = [
    "ClaimedJob",
    "JobKind",
    "Worker",
    "WorkerThreads",
    "claim_next",
    "enqueue",
    "enqueue_training",
    "run_worker",
    "submit_training",
]
