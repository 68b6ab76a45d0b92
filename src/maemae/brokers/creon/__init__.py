"""Daishin Creon Plus (Windows COM) broker: the adapter, its COM seam and a fake COM layer for tests."""
