"""Datasets as arrays in the authors' layout: train/test embeddings (P, K, D) and golden rewards (P, K)."""

from benchmark.data.arrays import PreferenceData

__all__ = ["PreferenceData"]
