"""The built-in sample market: deterministic synthetic KRX data so the demo and the tests need no network."""

from maemae.data.sample.catalogue import SAFE_ASSET_CODE
from maemae.data.sample.generator import SampleSummary, generate_sample_market

__all__ = ["SAFE_ASSET_CODE", "SampleSummary", "generate_sample_market"]
