/* memwalk bench module: public API (filled in by the module's issue). */
#ifndef MEMWALK_BENCH_H
#define MEMWALK_BENCH_H

#endif
