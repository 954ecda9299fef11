/* Internals of the maps module shared by its files: the string arena, ELF facts, the parser and
 * the classifier. Hidden from libmemwalk.so (mw__ names). */
#ifndef MEMWALK_MAPS_INT_H
#define MEMWALK_MAPS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "memwalk/maps.h"

/* A bump allocator for the many small strings and arrays of one mw_maps_t. */
struct mw__arena_block;
typedef struct mw__arena {
    struct mw__arena_block *head;
} mw__arena_t;

void *mw__arena_alloc(mw__arena_t *a, size_t size);
char *mw__arena_strndup(mw__arena_t *a, const char *s, size_t n);
void mw__arena_free(mw__arena_t *a);

/* One PT_LOAD segment. */
struct mw__elf_seg {
    uint64_t vaddr, memsz, filesz, offset;
    uint32_t flags; /* PF_R | PF_W | PF_X */
};

/* One SHF_ALLOC section. */
struct mw__elf_sec {
    uint64_t addr, size;
    uint64_t flags; /* SHF_WRITE | SHF_EXECINSTR ... */
    uint32_t type;  /* SHT_NOBITS for .bss and .tbss */
    const char *name;
};

/* The headers of one ELF file, read once per maps. */
struct mw__elf_file {
    uint64_t dev_major, dev_minor, inode;
    const char *path;
    int ok;  /* the file was read and is a usable ELF64 object */
    int err; /* why not: -ENOEXEC (read, not an ELF64 object) or the error of opening it */
    struct mw__elf_seg *segs;
    size_t nsegs;
    struct mw__elf_sec *secs; /* sorted by addr */
    size_t nsecs;
    uint64_t lo, hi; /* lowest and highest vaddr of the PT_LOAD segments */
};

/* One loaded instance of an ELF file: where its vaddr 0 landed. */
struct mw__elf_obj {
    struct mw__elf_file *file;
    uintptr_t bias;
};

/* One smaps key seen in the text. */
struct mw__smaps_key {
    const char *name; /* "Rss", NUL-terminated, in the arena */
    size_t len;
    size_t slot;  /* offset of its named field in mw_region_t, or 0 */
    int vm_flags; /* the "VmFlags" line, whose value is words, not a number */
    /* "Key:" as two words and the masks of its bytes (len + 1 <= 16), for a compare without a
     * call; mask[0] == 0 for a longer key. padded: "Key:" and spaces to 16 bytes, the way the
     * kernel prints the key column. */
    uint64_t word[2], mask[2], padded[2];
};

struct mw__maps_priv {
    mw__arena_t arena;
    struct mw__elf_file **files;
    size_t nfiles, capfiles;
    struct mw__elf_obj *objs;
    size_t nobjs, capobjs;
    int *region_obj; /* per region: index into objs, -1 (unknown) or -2 (a file read and found
                        not to be a loaded object) */
    size_t region_cap;
    size_t regions_mapped;     /* bytes of the regions array's own mapping, 0 when malloc'ed */
    size_t regions_mapped_min; /* the array's size from which it gets that mapping */
    /* Interned smaps keys, in the order the kernel printed them for the last region. */
    struct mw__smaps_key *keys;
    size_t nkeys, capkeys;
};

/* Parses maps or smaps text into out (regions + priv). flags: MW_MAPS_SMAPS for smaps text,
 * MW_MAPS_NO_FIELDS to keep only the named figures. Kinds are left at MW_REGION_ANON. */
int mw__maps_parse_text(const char *text, size_t len, unsigned flags, mw_maps_t *out,
                        size_t *bad_line);

/* For the fuzz target: parse every smaps line the general way (no fast path), to compare. */
#define MW__MAPS_GENERAL_ONLY 0x80000000u
/* The map of another process, read for a moment (the command): a big array moves to huge pages
 * sooner than in a process that keeps its own map cached. */
#define MW__MAPS_TRANSIENT 0x40000000u

/* Like mw__maps_parse_text, reading the text from fd to its end (MW_MAPS_READ_AHEAD: on a helper
 * thread, while the lines already read are parsed). */
int mw__maps_parse_fd(int fd, unsigned flags, mw_maps_t *out, size_t *bad_line);

/* Classifies every region. pid < 0: parsed text (names, permissions, neighbours only); pid >= 0:
 * a live process (0 = self), whose ELF files and thread stack pointers are read unless
 * MW_MAPS_NO_ELF. */
void mw__maps_classify(mw_maps_t *maps, pid_t pid, unsigned flags);

/* Reads the headers of the ELF file at path (or the file mapped at [start, end) of pid, which
 * works for deleted files) into f. Returns 0 or a negative errno; f->ok tells whether it is
 * usable. */
int mw__elf_read(mw__arena_t *arena, pid_t pid, uintptr_t start, uintptr_t end, const char *path,
                 struct mw__elf_file *f);

/* One PROCMAP_QUERY ioctl on an open /proc/PID/maps: fills reg's address, permission, offset,
 * device and inode fields and name (the maps line's path, NUL-terminated). Returns 0, -ENOENT
 * (nothing mapped there), -ENOTTY (kernel before 6.11) or another negative errno. */
int mw__maps_procmap_query(int fd, uintptr_t addr, unsigned qflags, mw_region_t *reg, char *name,
                           size_t name_len);

/* The same from an ELF image of size bytes in our own memory (the vDSO). */
int mw__elf_read_mem(mw__arena_t *arena, const void *image, size_t size, struct mw__elf_file *f);

/* Grows maps->regions to hold at least need regions (*cap of them now). Big arrays get their own
 * mapping in huge pages. Returns 0 or -ENOMEM. */
int mw__maps_grow_regions(mw_maps_t *maps, size_t *cap, size_t need);

/* Releases the regions array as mw__maps_grow_regions made it. */
void mw__maps_free_regions(mw_maps_t *maps);

/* Decodes the kernel's "\012" escape in a maps path. */
size_t mw__maps_unescape(char *s, size_t n);

/* Grows an array of elem-sized items to hold at least need. Returns 0 or -ENOMEM. */
int mw__grow(void **arr, size_t *cap, size_t need, size_t elem);

#endif
