"""Outputs of a pull: JSONL, CSV, gzip, xlsx and SQLite files, their rows, checkpoints, locks and
quarantined records."""
