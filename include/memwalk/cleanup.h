/* memwalk cleanup module: public API (filled in by the module's issue). */
#ifndef MEMWALK_CLEANUP_H
#define MEMWALK_CLEANUP_H

#endif
