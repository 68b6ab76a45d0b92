"""Fixtures every test package may use."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from maemae.data.sample import generate_sample_market
from tests.support.postgres import new_database, postgres_server


@pytest.fixture(scope="session")
def market_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample market shared by the engine, store and paper tests: 8 stocks + the safe-asset ETF
    over 40 sessions."""
    root = tmp_path_factory.mktemp("engine-market")
    generate_sample_market(root, stocks=8, days=40, seed=21, limit_events=3)
    return root


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for this test session (one per xdist worker)."""
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each supported kind: the store tests run against both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return new_database(request.getfixturevalue("postgres_url"))
