# The leak checker: `memwalk leaks`, its preload, victims, oracle comparisons, benchmark.
CLEAN_EXTRA +=
