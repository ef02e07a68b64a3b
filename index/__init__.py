"""Ingestion: corpus files -> documents -> chunks -> embeddings -> an index folder on disk."""
