"""The coordinator's full-text search on both engines: SQLite FTS5 and PostgreSQL full text
(a real server started by the fixtures), with the same answers."""

from __future__ import annotations

from datetime import UTC, datetime

from node.services.coordination.search import Filters, fold, search
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.migrate import upgrade_database
from node.storage.models import CoordinationEntry

ENTRIES = [
    (
        "https://a.example/experiments/1",
        "experiment",
        "Navette du samedi",
        "Relier les hameaux à la gare.",
    ),
    (
        "https://b.example/experiments/2",
        "experiment",
        "Vélobus scolaire",
        "Des élèves à vélo, encadrés.",
    ),
    (
        "https://b.example/evaluations/3",
        "evaluation",
        "Évaluation : Vélobus scolaire",
        "Succès ; à généraliser.",
    ),
    (
        "https://c.example/proposals/4",
        "proposal",
        "Jardins partagés",
        "Une parcelle pour les écoles.",
    ),
]


async def test_full_text_search_answers_the_same_on_both_engines(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await upgrade_database(engine)
        sessions = make_sessionmaker(engine)
        async with sessions.begin() as session:
            for number, (uri, kind, title, body) in enumerate(ENTRIES):
                session.add(
                    CoordinationEntry(
                        uri=uri,
                        kind=kind,
                        territory_uri=uri.rsplit("/", 2)[0] + "/actors/t",
                        territory_name=uri.split("/")[2],
                        title=title,
                        body=body,
                        folded=fold(f"{title}\n{body}"),
                        theme="mobility",
                        state="",
                        outcome="success" if kind == "evaluation" else "",
                        published=datetime(2026, 5, 1 + number, tzinfo=UTC),
                    )
                )
        async with sessions() as session:

            async def titles(**filters: object) -> list[str]:
                return [e.title for e in await search(session, Filters(**filters))]  # type: ignore[arg-type]

            assert await titles(query="velobus") == [
                "Évaluation : Vélobus scolaire",
                "Vélobus scolaire",
            ]
            assert await titles(query="VÉLOBUS") == await titles(query="velobus")
            assert await titles(query="vélobus scolaire", kind="experiment") == ["Vélobus scolaire"]
            assert await titles(query="hamea") == ["Navette du samedi"]  # a prefix
            assert await titles(query="écoles") == ["Jardins partagés"]
            assert await titles(query="navette jardins") == []  # every word is required
            assert await titles(query='NEAR("a" "b") OR *') == []  # words only, no syntax
            assert await titles(outcome="success") == ["Évaluation : Vélobus scolaire"]
            assert len(await titles()) == 4
        async with sessions.begin() as session:  # an update is searched by its new words
            entry = await session.get(
                CoordinationEntry, (await search(session, Filters(query="jardins")))[0].id
            )
            assert entry is not None
            entry.body = "Une parcelle de vergers."
            entry.folded = fold(f"{entry.title}\n{entry.body}")
        async with sessions() as session:
            assert [e.uri for e in await search(session, Filters(query="vergers"))] == [
                ENTRIES[3][0]
            ]
            assert await search(session, Filters(query="écoles")) == []
    finally:
        await engine.dispose()
