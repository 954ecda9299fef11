/* Weak links: locations the collector clears when the object they name dies. A table maps each
 * link's address to its object (low bit: long link); a collection reads the mark bits after
 * marking, before anything is freed. */
#include "gc/gc_internal.h"

#include <errno.h>

#define LONG_LINK ((uintptr_t)1) /* in a pair's val; objects are 16-byte aligned */

static struct mw__gc_map links;

static int link_ok(void **link)
{
    return link && ((uintptr_t)link & (sizeof(void *) - 1)) == 0;
}

static int add(void **link, const void *obj, uintptr_t kind)
{
    struct mw__gc_ref r;
    struct mw__gc_pair *p;
    int added, ret;

    if (!link_ok(link) || !obj)
        return -EINVAL;
    mw__gc_me();
    mw__gc_lock();
    if (!mw__gc_find((uintptr_t)obj, &r) || r.start != (uintptr_t)obj) {
        ret = -EINVAL;
    } else if (!(p = mw__gc_map_put(&links, (uintptr_t)link, &added))) {
        ret = -ENOMEM;
    } else {
        p->val = (uintptr_t)obj | kind;
        ret = added ? 0 : 1;
    }
    mw__gc_unlock();
    return ret;
}

int mw_gc_weak_link(void **link, const void *obj)
{
    return add(link, obj, 0);
}

int mw_gc_weak_link_long(void **link, const void *obj)
{
    return add(link, obj, LONG_LINK);
}

int mw_gc_weak_unlink(void **link)
{
    struct mw__gc_pair *p;
    int ret = -ENOENT;

    if (!link)
        return -ENOENT;
    mw__gc_me();
    mw__gc_lock();
    p = mw__gc_map_find(&links, (uintptr_t)link);
    if (p) {
        mw__gc_map_del(&links, p);
        ret = 0;
    }
    mw__gc_unlock();
    return ret;
}

int mw_gc_weak_move(void **link, void **new_link)
{
    struct mw__gc_pair *p;
    uintptr_t val;
    int added, ret = 0;

    if (!link_ok(new_link))
        return -EINVAL;
    mw__gc_me();
    mw__gc_lock();
    p = link ? mw__gc_map_find(&links, (uintptr_t)link) : NULL;
    if (!p) {
        ret = -ENOENT;
    } else if (link != new_link) {
        val = p->val;
        if (mw__gc_map_find(&links, (uintptr_t)new_link)) {
            ret = -EEXIST;
        } else if (!(p = mw__gc_map_put(&links, (uintptr_t)new_link, &added))) {
            ret = -ENOMEM;
        } else {
            p->val = val;
            /* The addition may have moved the table: find the old link again. */
            mw__gc_map_del(&links, mw__gc_map_find(&links, (uintptr_t)link));
        }
    }
    mw__gc_unlock();
    return ret;
}

static int marked(uintptr_t obj)
{
    struct mw__gc_ref r;

    /* An object not found was freed explicitly: it is gone too. */
    return mw__gc_find(obj, &r) && (r.alloc[4] & r.mask);
}

/* Where a link lives: 1 outside the heap or in a marked object, 0 in an unmarked object, -1 in
 * the heap but in no object (its object was freed: never write there). */
static int link_home(uintptr_t link)
{
    struct mw__gc_ref r;

    if (!mw__gc_heap_contains((const void *)link))
        return 1;
    if (!mw__gc_find(link, &r))
        return -1;
    return (r.alloc[4] & r.mask) ? 1 : 0;
}

void mw__gc_weak_clear(int phase)
{
    size_t i;

    if (!links.count)
        return;
    for (i = 0; i < links.cap; i++) {
        struct mw__gc_pair *p = &links.slot[i];
        int home;

        if (p->key <= MW__GC_MAP_DELETED)
            continue;
        home = link_home(p->key);
        /* After finalization nothing can bring a dead holder back: forget its links. */
        if (home < 0 || (phase == 1 && home == 0)) {
            mw__gc_map_del(&links, p);
            continue;
        }
        if (!!(p->val & LONG_LINK) != (phase == 1) || marked(p->val & ~LONG_LINK))
            continue;
        *(void **)p->key = NULL;
        mw__gc_map_del(&links, p);
    }
}
