/*
 * tests/host_env.c - mm/mm_env.h for the host: the "physical memory" is a
 * page-aligned malloc'ed buffer, the lock only checks it is not nested.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/host_env.h"

static unsigned char *mem;
static phys_t mem_size;

struct host_findings host_findings;
long host_lock_count;
int host_lock_misuse;
static int locked;

void host_mem_setup(phys_t size)
{
    mem = aligned_alloc(1u << 22, size);
    if (!mem) {
        perror("aligned_alloc");
        exit(2);
    }
    memset(mem, 0x5a, size);
    mem_size = size;
    memset(mm_sections, 0, sizeof mm_sections);
    host_findings_reset();
    locked = 0;
    host_lock_misuse = 0;
}

void host_mem_teardown(void)
{
    free(mem);
    mem = 0;
}

void *mm_phys_to_virt(phys_t p)
{
    if (p >= mem_size) {
        fprintf(stderr, "mm_phys_to_virt(0x%llx): outside fake memory\n",
                (unsigned long long)p);
        abort();
    }
    return mem + p;
}

void mm_lock(void)
{
    if (locked)
        host_lock_misuse = 1;
    locked = 1;
    host_lock_count++;
}

void mm_unlock(void)
{
    if (!locked)
        host_lock_misuse = 1;
    locked = 0;
}

void mm_report(const struct mm_finding *f)
{
    if (locked)
        host_lock_misuse = 1;   /* reports must come without the lock */
    host_findings.count++;
    snprintf(host_findings.kind, sizeof host_findings.kind, "%s", f->kind);
    host_findings.frame = f->frame;
    host_findings.order = f->order;
}

void host_findings_reset(void)
{
    memset(&host_findings, 0, sizeof host_findings);
}

void mm_log(const char *msg)
{
    (void)msg;
}
