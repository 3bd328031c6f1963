"""Tables of online learning (migration ``0005_online_learning``).

- ``offers``: offer records by collection (the reference's offer matrix /
  ``setup_offer_matrix``), each a JSON document of attributes that rules
  and whitelists can use.
- ``feature_stores`` / ``feature_store_entries``: a feature store, built
  from an offer collection and the values of up to two contextual
  variables: one entry per offer and segment the offer is offered in.
- ``online_learning_configs``: a dynamic recommender configuration with
  every parameter of ``create_online_learning`` (reference names).
- ``online_arms``: the options store: per configuration, offer and segment,
  the Beta's alpha and beta, the priors, counts, the last draw and the
  time of the last update. Counts and sums only ever change by atomic
  increments (``SET x = x + :d``), so any number of processes update them.
- ``online_interactions``: every offer shown by a configuration, with its
  outcome: what the options store's alpha and beta are the sums of.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from recostack.store.tables import Base, JSONDocument, UTCDateTime, utcnow

__all__ = [
    "ArmRow",
    "FeatureStoreEntryRow",
    "FeatureStoreRow",
    "InteractionRow",
    "OfferRow",
    "OnlineLearningRow",
]


class OfferRow(Base):
    __tablename__ = "offers"

    collection: Mapped[str] = mapped_column(String(128), primary_key=True)
    offer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class FeatureStoreRow(Base):
    __tablename__ = "feature_stores"

    database: Mapped[str] = mapped_column(String(128), primary_key=True)
    collection: Mapped[str] = mapped_column(String(128), primary_key=True)
    offer_database: Mapped[str] = mapped_column(String(128))
    offer_collection: Mapped[str] = mapped_column(String(128))
    offer_name_column: Mapped[str] = mapped_column(String(128))
    #: {variable name: [values]}, in the order given (at most two variables)
    contextual_variables: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FeatureStoreEntryRow(Base):
    __tablename__ = "feature_store_entries"

    database: Mapped[str] = mapped_column(String(128), primary_key=True)
    collection: Mapped[str] = mapped_column(String(128), primary_key=True)
    offer: Mapped[str] = mapped_column(String(255), primary_key=True)
    #: the segment's key: its variables' values joined by "|" ("" without variables)
    segment: Mapped[str] = mapped_column(String(255), primary_key=True)
    #: {variable name: value} of the segment
    values: Mapped[dict[str, Any]] = mapped_column(JSONDocument)


class OnlineLearningRow(Base):
    __tablename__ = "online_learning_configs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    algorithm: Mapped[str] = mapped_column(String(64))
    feature_store_database: Mapped[str] = mapped_column(String(128))
    feature_store_collection: Mapped[str] = mapped_column(String(128))
    #: every parameter of create_online_learning, by the reference's names
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ArmRow(Base):
    __tablename__ = "online_arms"
    #: per-customer arms are read by segment (the customer)
    __table_args__ = (Index("ix_online_arms_segment", "config_id", "segment"),)

    config_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    offer: Mapped[str] = mapped_column(String(255), primary_key=True)
    segment: Mapped[str] = mapped_column(String(255), primary_key=True)
    alpha: Mapped[float] = mapped_column(Float)
    beta: Mapped[float] = mapped_column(Float)
    alpha_zero: Mapped[float] = mapped_column(Float)
    beta_zero: Mapped[float] = mapped_column(Float)
    #: lifetime counts: shown, taken up, declined (an explicit take_up false)
    shown: Mapped[int] = mapped_column(BigInteger, default=0)
    taken_up: Mapped[int] = mapped_column(BigInteger, default=0)
    declined: Mapped[int] = mapped_column(BigInteger, default=0)
    reward_sum: Mapped[float] = mapped_column(Float, default=0.0)
    #: interactions that count now (in the window and the count)
    counted: Mapped[int] = mapped_column(Integer, default=0)
    #: the last score drawn for the arm
    arm_reward: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InteractionRow(Base):
    __tablename__ = "online_interactions"
    __table_args__ = (
        # per-arm reads go through the arm's integer key (see recostack.store.arm_keys)
        Index("ix_online_interactions_arm_key", "arm_key", "shown_ms"),
        Index("ix_online_interactions_counted", "config_id", "counted", "shown_ms"),
    )

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    offer: Mapped[str] = mapped_column(String(255), primary_key=True)
    config_id: Mapped[str] = mapped_column(String(36))
    deployment_id: Mapped[str] = mapped_column(String(128))
    #: the deployment's version that answered
    version: Mapped[str] = mapped_column(String(64))
    segment: Mapped[str] = mapped_column(String(255))
    #: arm_key(config_id, offer, segment)
    arm_key: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[str | None] = mapped_column(String(255))
    rank: Mapped[int] = mapped_column(Integer)
    #: when shown, milliseconds since the epoch (windows are in ms)
    shown_ms: Mapped[int] = mapped_column(BigInteger)
    draw: Mapped[float] = mapped_column(Float)
    propensity: Mapped[float] = mapped_column(Float)
    explored: Mapped[bool] = mapped_column(Boolean)
    #: None: no response yet; True: taken up; False: declined
    outcome: Mapped[bool | None] = mapped_column(Boolean)
    reward: Mapped[float | None] = mapped_column(Float)
    #: its weight in the arm's sums (decay), and whether it counts at all
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
