/* At load time: says when a loaded program or library calls a Boehm function this library does
 * not provide. Under `memwalk gc-run` such a call would reach Boehm's own libgc.so.1, whose heap
 * memwalk's collector does not see: objects from it could be freed while still in use. */
#include "boehm/boehm.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

static uintptr_t self_base;
static int warned;

static int provided(const char *name)
{
    Dl_info info;
    void *p = dlsym(RTLD_DEFAULT, name);

    return p && dladdr(p, &info) && (uintptr_t)info.dli_fbase == self_base;
}

static void warn_missing(const char *object, const char *name)
{
    const char *parts[] = {"memwalk gc: warning: ", object, " uses ", name,
                           ", which memwalk does not provide: it reaches Boehm GC's libgc.so.1, "
                           "whose objects and settings memwalk's collector does not see (see "
                           "libmemwalk(3), \"MOVING FROM BOEHM GC\")\n"};
    size_t i;

    for (i = 0; i < sizeof parts / sizeof parts[0]; i++)
        (void)!write(2, parts[i], strlen(parts[i]));
}

/* A dynamic-section address: relocated by the loader for most objects, not for the vDSO. */
static const void *dyn_ptr(const struct dl_phdr_info *info, Elf64_Addr p)
{
    return (const void *)(p < info->dlpi_addr ? p + info->dlpi_addr : p);
}

static int check_object(struct dl_phdr_info *info, size_t size, void *ctx)
{
    const Elf64_Dyn *dyn = NULL;
    const Elf64_Sym *syms = NULL;
    const char *strs = NULL, *object;
    const uint32_t *gnu_hash = NULL, *hash = NULL;
    size_t i, count;

    (void)size;
    (void)ctx;
    if (info->dlpi_addr == self_base || strstr(info->dlpi_name, "libgc.so") ||
        strstr(info->dlpi_name, "libmemwalk.so") || strstr(info->dlpi_name, "linux-vdso"))
        return 0;
    for (i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const Elf64_Dyn *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
        if (dyn->d_tag == DT_SYMTAB)
            syms = dyn_ptr(info, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_STRTAB)
            strs = dyn_ptr(info, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_GNU_HASH)
            gnu_hash = dyn_ptr(info, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_HASH)
            hash = dyn_ptr(info, dyn->d_un.d_ptr);
    }
    if (!syms || !strs || (!gnu_hash && !hash))
        return 0;
    /* With a GNU hash table the undefined symbols come first, before the hashed ones. */
    count = gnu_hash ? gnu_hash[1] : hash[1];
    object = *info->dlpi_name ? info->dlpi_name : program_invocation_name;
    for (i = 1; i < count && warned < 20; i++) {
        const char *name = strs + syms[i].st_name;
        if (syms[i].st_shndx == SHN_UNDEF && strncmp(name, "GC_", 3) == 0 && !provided(name)) {
            warn_missing(object, name);
            warned++;
        }
    }
    return 0;
}

__attribute__((constructor)) static void check_imports(void)
{
    Dl_info info;

    if (!dladdr((void *)check_imports, &info))
        return;
    self_base = (uintptr_t)info.dli_fbase;
    dl_iterate_phdr(check_object, NULL);
}
