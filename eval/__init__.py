"""Evaluation: gold question/answer pairs, the metrics of DESIGN.md, reports and benchmarks."""
