"""Run plumbing: seeding, the run folder (manifest, metrics, summary), rank-zero output."""
