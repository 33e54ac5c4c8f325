/*
 * The instance's shared memory (include/shm.h): a memfd, so it needs no path in a read-only
 * file system, no name to clean up, and dies with the last process that maps it.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm.h"

static struct shm_region *shm_mine;

struct shm_region *shm_get(void)
{
	return shm_mine;
}

err_t shm_create(struct shm_region **out, int *fd)
{
	size_t len = sizeof(struct shm_region);
	void *p;
	int f;

	*out = NULL;
	*fd = -1;
	/* Close-on-exec by default: only the master's children get it, and only on purpose. */
	f = memfd_create("vehicle-shm", MFD_CLOEXEC);
	if (f < 0)
		return ERR_INTERNAL;
	if (ftruncate(f, (off_t)len) != 0) {
		close(f);
		return ERR_INTERNAL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	if (p == MAP_FAILED) {
		close(f);
		return ERR_INTERNAL;
	}
	shm_mine = p; /* ftruncate zeroed it */
	shm_mine->size = (uint32_t)len;
	if (ratelimit_area_init(&shm_mine->limits) != ERR_OK) {
		munmap(p, len);
		shm_mine = NULL;
		close(f);
		return ERR_INTERNAL;
	}
	__atomic_store_n(&shm_mine->magic, SHM_MAGIC, __ATOMIC_RELEASE);
	*out = shm_mine;
	*fd = f;
	return ERR_OK;
}

err_t shm_attach(int fd)
{
	size_t len = sizeof(struct shm_region);
	struct stat st;
	struct shm_region *r;
	void *p;

	if (fstat(fd, &st) != 0 || st.st_size != (off_t)len) {
		close(fd);
		return ERR_VALIDATION;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd); /* the mapping keeps the memory */
	if (p == MAP_FAILED)
		return ERR_VALIDATION;
	r = p;
	if (__atomic_load_n(&r->magic, __ATOMIC_ACQUIRE) != SHM_MAGIC || r->size != len) {
		munmap(p, len);
		return ERR_VALIDATION;
	}
	shm_mine = r;
	return ERR_OK;
}
