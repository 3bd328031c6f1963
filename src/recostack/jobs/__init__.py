"""Background work: training jobs as leased rows, and the workers that run them."""

from recostack.jobs.queue import ClaimedJob, claim_next, enqueue_training
from recostack.jobs.training import submit_training
from recostack.jobs.worker import Worker, WorkerThreads, run_worker

__all__ = [
    "ClaimedJob",
    "Worker",
    "WorkerThreads",
    "claim_next",
    "enqueue_training",
    "run_worker",
    "submit_training",
]
