/* memwalk's Boehm GC compatible layer has no back-pointer debugging (GC_KEEP_BACK_PTRS): this
 * header only lets programs that include it build. Nothing of Boehm's gc_backptr.h is provided;
 * see libmemwalk(3), "Moving from Boehm GC". */
#ifndef MEMWALK_BOEHM_GC_BACKPTR_H
#define MEMWALK_BOEHM_GC_BACKPTR_H

#include "gc.h"

#endif
