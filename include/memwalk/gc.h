/* memwalk gc module: public API (filled in by the module's issue). */
#ifndef MEMWALK_GC_H
#define MEMWALK_GC_H

#endif
