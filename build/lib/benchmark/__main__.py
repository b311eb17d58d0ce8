"""``python -m benchmark`` = ``arm-bench``."""

from benchmark.experiment import main

main()
