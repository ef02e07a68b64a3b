"""Builds on disk: writing, verifying and loading an index, its dense and BM25 parts, shards, summaries, Ray."""
