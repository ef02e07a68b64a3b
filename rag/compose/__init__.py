"""The answer composer: candidates -> named features -> a learned selector -> a cited quote or an abstention."""

from rag.compose.composer import Composed, Composer, ComposerSettings

__all__ = ["Composed", "Composer", "ComposerSettings"]
