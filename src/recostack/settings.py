"""Every knob of the Recostack server, in one pydantic-settings class.

Each field has a default that runs on a laptop and a ``RECOSTACK_<NAME>``
environment variable (``RECOSTACK_DATA_DIR``, ``RECOSTACK_DATABASE_URL``,
...). Read them through :func:`get_settings`; tests and the CLI build a
:class:`Settings` directly when they need other values.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]

LogLevel = Literal["critical", "error", "warning", "info", "debug"]


class Settings(BaseSettings):
    """Configuration of the API, the store, the workers and the serving cache."""

    model_config = SettingsConfigDict(env_prefix="RECOSTACK_", extra="ignore")

    # --- where things live ---------------------------------------------------
    #: root of the SQLite file (by default), model artifacts and input files
    data_dir: Path = Field(default=Path("./recostack-data"), validate_default=True)
    #: SQLAlchemy URL of the metadata store; empty means a SQLite file under data_dir.
    #: PostgreSQL: ``postgresql+psycopg://user@host:5432/dbname``
    database_url: str = ""
    #: PostgreSQL: how long opening a connection may take before the request gets a 503
    database_connect_timeout_seconds: float = Field(default=5.0, ge=1, le=300)
    #: PostgreSQL: the longest statement an API process runs before it gives up with a 503
    #: (0: no limit; workers and ``recostack db upgrade`` have none)
    database_statement_timeout_seconds: float = Field(default=30.0, ge=0, le=86_400)

    # --- the HTTP server -----------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    #: uvicorn worker processes serving the API
    api_processes: int = Field(default=1, ge=1, le=64)
    log_level: LogLevel = "info"
    #: largest input file accepted by ``PUT /api/files/...``
    max_upload_bytes: int = Field(default=2 * 1024**3, ge=1)
    #: largest JSON request body (a 413 beyond it; uploads have max_upload_bytes)
    max_json_bytes: int = Field(default=16 * 1024**2, ge=1024)
    #: deepest nesting of arrays and objects in a JSON request body (a 400 beyond it)
    max_json_depth: int = Field(default=32, ge=4, le=1000)
    #: requests one API process holds unanswered before it answers the next with a 503 and
    #: Retry-After instead of queueing it (0: no limit; the probes and /metrics always pass)
    max_requests_in_flight: int = Field(default=256, ge=0, le=1_000_000)

    # --- request rate ------------------------------------------------------------
    #: requests per second each API key may make (0: no limit), in each API process or,
    #: with redis_url, across all of them; a request over it gets a 429 with Retry-After
    rate_limit_per_second: float = Field(default=0.0, ge=0)
    #: requests a key may make at once above that rate (0: one second's worth)
    rate_limit_burst: int = Field(default=0, ge=0)
    #: Redis shared by every process (``redis://127.0.0.1:6379/0``; empty: none): the
    #: rate limit's buckets live there
    redis_url: str = ""

    # --- API keys --------------------------------------------------------------
    #: when set, the primary admin / recommend key (instead of a generated one)
    admin_key: SecretStr | None = None
    recommend_key: SecretStr | None = None
    #: how often each API process re-reads the change stamps (keys, default model, scenarios,
    #: deployments, online learning): a change made through one replica is served by every
    #: replica within about this plus the reload (docs/reliability.md: the target is 1 s)
    state_refresh_seconds: float = Field(default=0.25, gt=0, le=60)

    # --- the dashboard ---------------------------------------------------------
    #: how long a dashboard sign-in lasts (seconds)
    web_session_seconds: float = Field(default=8 * 3600, gt=0, le=30 * 86400)

    # --- serving -------------------------------------------------------------
    #: memory budget of the loaded-model cache of each API process
    model_cache_bytes: int = Field(default=2 * 1024**3, ge=0)
    #: off-policy evaluation reads at most this many of a deployment's newest online answers
    #: (a request may ask for another window with ``maxAnswers``)
    online_evaluation_max_answers: int = Field(default=20_000, ge=1, le=10_000_000)
    #: shown offers and responses an API process or batch job may hold queued for its online
    #: learner; past it, online answers wait for room (2 s), then are a 503 to retry
    online_learning_max_backlog: int = Field(default=500_000, ge=1)

    # --- operations (statistics, schedules, webhooks) -------------------------------
    #: how often each API process merges its statistics rollups into the store
    statistics_flush_seconds: float = Field(default=1.0, gt=0, le=300)
    #: how often each worker process's scheduler looks for due refreshes, alerts, monitors
    #: and webhook deliveries
    scheduler_poll_seconds: float = Field(default=1.0, gt=0, le=300)
    #: a due time missed by more than this (no scheduler ran) is recorded as missed, not run
    schedule_misfire_seconds: float = Field(default=600.0, gt=0)
    #: how often an alert's condition is evaluated
    alert_evaluation_seconds: float = Field(default=60.0, gt=0)
    #: attempts of one webhook delivery before it is marked failed
    webhook_max_attempts: int = Field(default=8, ge=1, le=100)
    #: the first retry waits this long, each next one twice as long (at most an hour)
    webhook_backoff_seconds: float = Field(default=5.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    #: the key webhook secrets derive from (default: one generated into the data directory;
    #: set it when workers run on several machines)
    secret_key: SecretStr | None = None

    # --- training jobs -------------------------------------------------------
    #: training worker threads started inside ``recostack serve`` (0: none)
    workers_in_process: int = Field(default=1, ge=0, le=64)
    #: a claimed job is another worker's to take once its lease is this old
    job_lease_seconds: float = Field(default=60.0, gt=0)
    #: how often a running job renews its lease
    job_heartbeat_seconds: float = Field(default=10.0, gt=0)
    #: claims of one job before it is marked Failed (a claim ends without a
    #: result only when the worker dies)
    job_max_attempts: int = Field(default=3, ge=1, le=100)
    #: how long an idle worker waits before looking for work again
    job_poll_seconds: float = Field(default=1.0, gt=0)
    #: train in a child process so the worker's process (the API, in
    #: ``serve``) keeps its interpreter to itself
    train_in_subprocess: bool = True

    # --- batch jobs and the Spark engine -----------------------------------------
    #: input lines scored per chunk: a chunk is the unit of progress and of resuming
    batch_chunk_lines: int = Field(default=20_000, ge=1, le=10_000_000)
    #: processes scoring a local batch job's chunks (0: one per core)
    batch_processes: int = Field(default=0, ge=0, le=256)
    #: absolute folders besides the data directory that batch jobs may read and write
    #: (a JSON list in ``RECOSTACK_BATCH_PATHS``); nothing else outside the data directory
    batch_paths: list[Path] = Field(default_factory=list)
    #: the Spark master of ``engine: spark`` (``local[*]``, ``spark://host:7077``, ...)
    spark_master: str = "local[*]"

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> Settings:
        if self.job_heartbeat_seconds >= self.job_lease_seconds:
            raise ValueError("job_heartbeat_seconds must be shorter than job_lease_seconds")
        return self

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to ``<data_dir>/recostack.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'recostack.db'}"

    @property
    def files_dir(self) -> Path:
        """Input files: one folder per container."""
        return self.data_dir / "files"

    @property
    def models_dir(self) -> Path:
        """Model artifacts: one folder per model id."""
        return self.data_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings()
