"""``rlrec report``: aggregate many run folders into tables (terminal, Markdown, LaTeX, CSV) and
learning-curve plots, reading nothing but summary.json, metrics.parquet and .hydra/overrides.yaml."""
