"""Territorial knowledge: the map's actors, places and flows, and indicators beyond GDP with
their observations over time."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.domain.ids import new_id
from node.storage.base import Base, UTCDateTime, utcnow

_ID = 26


def _id_column() -> Mapped[str]:
    return mapped_column(String(_ID), primary_key=True, default=new_id)


class Place(Base):
    """A place of the territory: a point (latitude, longitude) or an area (GeoJSON)."""

    __tablename__ = "places"

    id: Mapped[str] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: service_equipment, production_site, living_meeting_place, natural_space_resource
    kind: Mapped[str] = mapped_column(String(32), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: a GeoJSON Polygon/MultiPolygon for areas (its centre is in latitude/longitude)
    geometry: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MapActor(Base):
    """Someone acting in the territory: a collective, a company, an association, a local
    authority, an agricultural or environmental actor (never an individual inhabitant)."""

    __tablename__ = "map_actors"

    id: Mapped[str] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: inhabitant_collective, company, association, local_authority, agricultural_environmental
    kind: Mapped[str] = mapped_column(String(32), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    place_id: Mapped[str | None] = mapped_column(
        ForeignKey("places.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Flow(Base):
    """An aggregated flow between two places or actors over a period: quantity and unit."""

    __tablename__ = "flows"
    __table_args__ = (
        CheckConstraint(
            "(source_place_id IS NULL) <> (source_actor_id IS NULL)", name="one_source"
        ),
        CheckConstraint(
            "(target_place_id IS NULL) <> (target_actor_id IS NULL)", name="one_target"
        ),
    )

    id: Mapped[str] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    #: resources_goods_energy, information_services, people_mobility
    kind: Mapped[str] = mapped_column(String(32), index=True)
    #: what flows ("légumes", "bois-énergie", "trajets domicile-travail")
    label: Mapped[str] = mapped_column(String(200))
    source_place_id: Mapped[str | None] = mapped_column(
        ForeignKey("places.id", ondelete="CASCADE"), nullable=True
    )
    source_actor_id: Mapped[str | None] = mapped_column(
        ForeignKey("map_actors.id", ondelete="CASCADE"), nullable=True
    )
    target_place_id: Mapped[str | None] = mapped_column(
        ForeignKey("places.id", ondelete="CASCADE"), nullable=True
    )
    target_actor_id: Mapped[str | None] = mapped_column(
        ForeignKey("map_actors.id", ondelete="CASCADE"), nullable=True
    )
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    #: the period the quantity covers, as written ("2025", "par semaine") and as dates
    period: Mapped[str] = mapped_column(String(64), default="")
    period_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    period_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Indicator(Base):
    """An indicator of the territory's catalogue: what is measured and which way is better."""

    __tablename__ = "indicators"

    id: Mapped[str] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(64))
    #: increase or decrease: the direction in which it is better
    direction: Mapped[str] = mapped_column(String(16))
    theme: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    method: Mapped[str] = mapped_column(Text, default="")
    baseline: Mapped[float | None] = mapped_column(Float, nullable=True)
    target: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Observation(Base):
    """One value of a territory indicator on a date."""

    __tablename__ = "observations"
    __table_args__ = (UniqueConstraint("indicator_id", "observed_on"),)

    id: Mapped[str] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    indicator_id: Mapped[str] = mapped_column(
        ForeignKey("indicators.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[float] = mapped_column(Float)
    observed_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_by: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
