"""What the tests and the benchmarks share: synthetic denials and X12 files, and the helpers that
start the product's processes. Neither the product nor its image uses it."""
