/* memwalk show module: public API (filled in by the module's issue). */
#ifndef MEMWALK_SHOW_H
#define MEMWALK_SHOW_H

#endif
