"""Text processing: cleaning, sentences, chunks packed to a token budget, BM25 terms."""
