"""The benchmark harness of `make bench` (see bench.run and README "Performance")."""
