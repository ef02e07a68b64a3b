"""Question answering over an index: retrieve passages, compose a cited answer."""
