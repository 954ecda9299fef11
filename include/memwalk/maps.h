/* memwalk maps module: public API (filled in by the module's issue). */
#ifndef MEMWALK_MAPS_H
#define MEMWALK_MAPS_H

#endif
