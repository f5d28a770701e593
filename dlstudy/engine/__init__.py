"""The problem engine: templates, sampling, live oracles, worked steps, answers and verdicts."""
