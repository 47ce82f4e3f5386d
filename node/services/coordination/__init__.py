"""The coordinator role: follow territories, index their experiments, evaluations, proposals and
offers, search them, compute statistics across them, publish digests, discover territories."""
