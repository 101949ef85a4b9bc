"""qualkg benchmarks: a synthetic corpus generator and one run that measures qualkg, its naive
baseline, its engine's limit and a peer server side by side (`python -m bench run --quick|--full`)."""
