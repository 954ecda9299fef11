/* memwalk maps: the regions of a process from /proc/PID/maps (and smaps), each classified. */
#ifndef MEMWALK_MAPS_H
#define MEMWALK_MAPS_H

/*
 * A process's address space is a sorted list of regions, one per line of /proc/PID/maps. Each
 * region gets exactly one kind:
 *
 *   text        executable code of a loaded ELF object (its r-x segment)
 *   rodata      read-only data of an ELF object (.rodata, .eh_frame, and RELRO once protected)
 *   data        initialised writable data of an ELF object (.data, .got.plt, ...)
 *   bss         zero-initialised data of an ELF object, up to p_vaddr + p_memsz of its segment
 *   heap        the brk heap, [heap]
 *   stack       the main thread's stack, [stack]
 *   thread-stack  the stack of another thread (found from the threads' stack pointers)
 *   anon        anonymous memory: large malloc blocks, arenas, mmap(MAP_ANONYMOUS)
 *   file        a mapped file that is not a loaded ELF object (or an ELF gap with no access)
 *   vdso, vvar, vsyscall   the kernel's pages ([vvar] and the newer [vvar_vclock] are vvar)
 *   named-anon  anonymous memory named with PR_SET_VMA_ANON_NAME, shown as [anon:NAME]
 *   shm         shared memory: memfd, SysV, POSIX /dev/shm, MAP_SHARED|MAP_ANONYMOUS
 *   guard       the inaccessible (PROT_NONE) page just below a stack
 *   reserved    other inaccessible anonymous memory: address space set aside with no memory
 *               behind it, such as the unused part of each 64 MiB glibc malloc arena of a thread
 *
 * A region's kind is the kind of most of its bytes. The last file-backed page of a writable
 * segment often holds the end of .data and the start of .bss: its section then names both
 * (".data+.bss"), and mw_maps_kind_at() and mw_maps_section_at() answer per address, from the ELF
 * program and section headers.
 *
 * Functions return 0 or a negative errno; output parameters are written only on success.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum mw_region_kind {
    MW_REGION_TEXT,
    MW_REGION_RODATA,
    MW_REGION_DATA,
    MW_REGION_BSS,
    MW_REGION_HEAP,
    MW_REGION_STACK,
    MW_REGION_THREAD_STACK,
    MW_REGION_ANON,
    MW_REGION_FILE,
    MW_REGION_VDSO,
    MW_REGION_VVAR,
    MW_REGION_VSYSCALL,
    MW_REGION_NAMED_ANON,
    MW_REGION_SHM,
    MW_REGION_GUARD,
    MW_REGION_RESERVED, /* added after the others: the values above keep their numbers */
    MW_REGION_KIND_COUNT
};

/* One smaps key and its value, in kB for the keys the kernel prints with "kB". */
typedef struct mw_smaps_field {
    const char *key; /* "Rss", "Pss", "Swap", "THPeligible", ... */
    uint64_t value;
} mw_smaps_field_t;

/* One line of /proc/PID/maps, plus its smaps block when read with MW_MAPS_SMAPS. */
typedef struct mw_region {
    uintptr_t start; /* inclusive */
    uintptr_t end;   /* exclusive */
    char perms[5];   /* "r-xp": read, write, exec, p(rivate) or s(hared) */
    uint64_t offset; /* file offset of start */
    unsigned dev_major, dev_minor;
    uint64_t inode;
    const char *path; /* as the kernel shows it ("" for anonymous, "[heap]", a file path with
                         "\012" decoded to a newline) without the " (deleted)" suffix */
    int deleted;      /* the path ended in " (deleted)" */
    enum mw_region_kind kind;
    pid_t tid;           /* for thread-stack: the thread's id when known, else 0 */
    const char *section; /* for ELF objects: the section holding most of the region, or NULL;
                            for a page shared by initialised and zero-filled data, the main
                            section of each joined by '+' (".data+.bss"), in address order,
                            while kind says which has more bytes */

    /* smaps figures in kB (0 unless read with MW_MAPS_SMAPS). */
    int has_smaps;
    uint64_t size_kb, rss_kb, pss_kb, shared_clean_kb, shared_dirty_kb, private_clean_kb,
        private_dirty_kb, referenced_kb, anonymous_kb, swap_kb, swap_pss_kb, locked_kb;
    const mw_smaps_field_t *fields; /* every smaps key of the region, in the kernel's order */
    size_t nfields;
    const char *vm_flags; /* the VmFlags line ("rd wr mr mw me ac"), or NULL */
} mw_region_t;

struct mw__maps_priv;

/* The regions of one process, sorted by address. Release with mw_maps_free. */
typedef struct mw_maps {
    pid_t pid; /* the process read (getpid() for self), 0 for parsed text */
    mw_region_t *regions;
    size_t count;
    int has_smaps;
    struct mw__maps_priv *priv; /* strings, ELF facts; owned by the maps */
} mw_maps_t;

/* Flags for mw_maps_read and mw_maps_parse. */
#define MW_MAPS_SMAPS  0x1u /* also read smaps: RSS, PSS, Swap, Dirty and every other key */
#define MW_MAPS_NO_ELF 0x2u /* do not open ELF files: text/rodata/data/bss from permissions */
/* With MW_MAPS_SMAPS: fill the named figures (rss_kb...) and vm_flags but leave fields NULL,
 * which saves about 400 bytes a region (4 MB for 10,000 regions). */
#define MW_MAPS_NO_FIELDS 0x4u
/* With mw_maps_read of another process: a helper thread reads the kernel's text while the lines
 * already read are parsed (the kernel's time to write smaps is most of the cost for a big
 * process). The thread blocks every signal and is joined before the call returns; without it
 * (pid 0, or no thread could be started) the text is read in the calling thread. */
#define MW_MAPS_READ_AHEAD 0x8u

/* Reads /proc/PID/maps (pid 0 = the calling process) and classifies every region. Errors:
 * -ESRCH (no such process), -EACCES/-EPERM, -EINVAL (the kernel's text did not parse),
 * -ENOMEM. */
int mw_maps_read(pid_t pid, unsigned flags, mw_maps_t *out);

/* Parses maps text (or smaps text with MW_MAPS_SMAPS) from a buffer, strictly: five fixed fields,
 * then the path as the rest of the line. Regions are classified from their names, permissions
 * and neighbours only (no process to ask). On -EINVAL, *bad_line (when not NULL) gets the 1-based
 * line number of the first malformed line. */
int mw_maps_parse(const char *text, size_t len, unsigned flags, mw_maps_t *out, size_t *bad_line);

/* The region holding addr, or NULL. Binary search; the pointer lives as long as maps. */
const mw_region_t *mw_maps_find(const mw_maps_t *maps, uintptr_t addr);

/* The kind of the byte at addr (which may differ from its region's kind: .data and .bss share
 * a page). Returns -ENOENT when addr is not mapped, else a value of enum mw_region_kind. */
int mw_maps_kind_at(const mw_maps_t *maps, uintptr_t addr);

/* The name of the ELF section holding addr (".data", ".bss", ".text", ...) or NULL when addr is
 * in no section of a readable ELF object. The string lives as long as maps. */
const char *mw_maps_section_at(const mw_maps_t *maps, uintptr_t addr);

/* The path of the loaded ELF object whose image holds addr: one of its file mappings, or the
 * anonymous pages of its .bss past the file. NULL when addr is in no object's image (or the map
 * was read with MW_MAPS_NO_ELF, or parsed from text). The string lives as long as maps. */
const char *mw_maps_object_at(const mw_maps_t *maps, uintptr_t addr);

/* Looks up the single region holding addr in process pid (0 = self) without reading the whole
 * map when the kernel has the PROCMAP_QUERY ioctl (Linux 6.11+), with /proc/PID/maps as the
 * fallback. *out and its strings belong to out_maps, a one-region mw_maps_t (free it). Returns 0,
 * -ENOENT when addr is not mapped, or the errors of mw_maps_read. */
int mw_maps_query(pid_t pid, uintptr_t addr, mw_maps_t *out_maps);

/* Releases what mw_maps_read/parse/query allocated and zeroes *maps. NULL is fine. */
void mw_maps_free(mw_maps_t *maps);

/* "text", "rodata", ..., "thread-stack", "named-anon", ...; "?" for an out-of-range value. */
const char *mw_region_kind_name(enum mw_region_kind kind);

/* Writes the address space as an SVG picture (high addresses at the top, boxes coloured by kind,
 * large gaps compressed) to a newly allocated NUL-terminated string the caller frees. */
int mw_maps_svg(const mw_maps_t *maps, char **ret_svg);

#endif
