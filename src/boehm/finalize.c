/* Boehm's finalizers and disappearing links on memwalk's finalizers and weak links. */
#include "boehm/boehm.h"

#include <errno.h>
#include <stdint.h>

static void reg(void *obj, GC_finalization_proc fn, void *cd, GC_finalization_proc *ofn, void **ocd,
                unsigned flags)
{
    mw_gc_finalizer_fn old_fn = NULL;
    void *old_cd = NULL;
    int r = mw_gc_replace_finalizer(obj, fn, cd, flags, &old_fn, &old_cd);

    /* Not the start of a collected object: Boehm ignores fn and reports no old finalizer. Out of
     * memory: *ofn and *ocd stay as they were. */
    if (r == -ENOMEM)
        return;
    if (ofn)
        *ofn = r == 0 ? old_fn : NULL;
    if (ocd)
        *ocd = r == 0 ? old_cd : NULL;
}

/* memwalk never lets an object's pointer to itself delay it: Boehm's plain and ignore-self forms
 * are the same here. */
void GC_register_finalizer(void *obj, GC_finalization_proc fn, void *cd, GC_finalization_proc *ofn,
                           void **ocd)
{
    reg(obj, fn, cd, ofn, ocd, 0);
}

void GC_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn, void *cd,
                                       GC_finalization_proc *ofn, void **ocd)
{
    reg(obj, fn, cd, ofn, ocd, 0);
}

void GC_register_finalizer_no_order(void *obj, GC_finalization_proc fn, void *cd,
                                    GC_finalization_proc *ofn, void **ocd)
{
    reg(obj, fn, cd, ofn, ocd, MW_GC_FINALIZE_UNORDERED);
}

void GC_debug_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                                 GC_finalization_proc *ofn, void **ocd)
{
    reg(obj, fn, cd, ofn, ocd, 0);
}

void GC_debug_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn, void *cd,
                                             GC_finalization_proc *ofn, void **ocd)
{
    reg(obj, fn, cd, ofn, ocd, 0);
}

void GC_debug_register_finalizer_no_order(void *obj, GC_finalization_proc fn, void *cd,
                                          GC_finalization_proc *ofn, void **ocd)
{
    reg(obj, fn, cd, ofn, ocd, MW_GC_FINALIZE_UNORDERED);
}

/* Finalizers run by themselves: none ever waits for GC_invoke_finalizers. */
static int on_demand, java_finalization = 1;

int GC_should_invoke_finalizers(void)
{
    return 0;
}

int GC_invoke_finalizers(void)
{
    return 0;
}

void GC_set_finalize_on_demand(int value)
{
    on_demand = value;
}

int GC_get_finalize_on_demand(void)
{
    return on_demand;
}

void GC_set_java_finalization(int value)
{
    java_finalization = value;
}

int GC_get_java_finalization(void)
{
    return java_finalization;
}

/* ---- disappearing links ---------------------------------------------------------------------- */

static int add_link(void **link, const void *obj, int is_long)
{
    void *base;
    int r;

    if (!link || ((uintptr_t)link & (sizeof(void *) - 1)))
        mw__boehm_fatal("GC_general_register_disappearing_link: link not aligned to a pointer");
    /* An object outside the collected heap never dies: its link never has to disappear. */
    base = mw_gc_base(obj);
    if (!base)
        return GC_SUCCESS;
    r = is_long ? mw_gc_weak_link_long(link, base) : mw_gc_weak_link(link, base);
    return r == 0 ? GC_SUCCESS : r == 1 ? GC_DUPLICATE : GC_NO_MEMORY;
}

int GC_general_register_disappearing_link(void **l, const void *obj)
{
    return add_link(l, obj, 0);
}

int GC_register_disappearing_link(void **l)
{
    /* The old form: the link disappears with the object that holds it. */
    void *holder = mw_gc_base(l);

    if (!holder)
        mw__boehm_fatal("GC_register_disappearing_link: the link is not inside a collected object");
    return add_link(l, holder, 0);
}

int GC_register_long_link(void **l, const void *obj)
{
    return add_link(l, obj, 1);
}

static int move(void **l, void **new_l)
{
    int r = mw_gc_weak_move(l, new_l);

    return r == 0 ? GC_SUCCESS : r == -EEXIST ? GC_DUPLICATE : GC_NOT_FOUND;
}

int GC_move_disappearing_link(void **l, void **new_l)
{
    return move(l, new_l);
}

int GC_move_long_link(void **l, void **new_l)
{
    return move(l, new_l);
}

int GC_unregister_disappearing_link(void **l)
{
    return mw_gc_weak_unlink(l) == 0;
}

int GC_unregister_long_link(void **l)
{
    return mw_gc_weak_unlink(l) == 0;
}

void *GC_call_with_alloc_lock(GC_fn_type fn, void *client_data)
{
    return mw_gc_call_locked(fn, client_data);
}
