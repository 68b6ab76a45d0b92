from pathlib import Path

import pytest

from maemae.data.sample import SampleSummary, generate_sample_market


@pytest.fixture(scope="session")
def small_market(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleSummary]:
    """A small sample market (6 stocks + the ETF, 12 sessions) shared read-only by the data tests."""
    root = tmp_path_factory.mktemp("market")
    summary = generate_sample_market(root, stocks=6, days=12, seed=3, limit_events=3)
    return root, summary
