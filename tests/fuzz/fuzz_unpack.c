/* fuzz_unpack.c - libFuzzer harness: any bytes as an uncompressed archive
 * stream, through the tar reader, the member checks and the manifest
 * reader.  Nothing is unpacked (no staging folder). */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "io.h"
#include "unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unpacked u;
	char err[1024];
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (io_write_all(fd, data, size) == 0 && lseek(fd, 0, SEEK_SET) == 0)
		(void)unpack_stream(fd, &(struct unpack_opts){ .stage = -1 },
		    &u, err, sizeof err);
	close(fd);
	return 0;
}
