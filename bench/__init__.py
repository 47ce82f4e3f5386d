"""Benchmarks of a Maillage node on loopback: inbox intake, fan-out, crash safety.

Run them all with `python -m bench` (`--quick` for a small CI-sized run, `--only NAME` for
one). They print rates and ratios; they never assert timings. Everything talks to
127.0.0.1 only, and every loop is bounded in count and in time.
"""
