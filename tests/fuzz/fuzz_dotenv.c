/* fuzz_dotenv.c - libFuzzer harness: any bytes as a .env file, read as a
 * restore reads them, and merged with themselves as a restore merges. */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "dotenv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "POLARITY_DB_HOST",
		"POLARITY_DB_PASSWORD", "PGSSLMODE", NULL };
	struct dotenv env = { 0 };
	char err[512], *out = NULL;
	size_t outlen = 0;
	FILE *f = fmemopen((void *)(uintptr_t)data, size, "r");

	if (size == 0 || f == NULL) {
		if (f)
			fclose(f);
		return 0;
	}
	(void)dotenv_parse(&env, f, "fuzz", err, sizeof err);
	fclose(f);
	dotenv_free(&env);
	/* Half as the live file, half as the archive's. */
	if (dotenv_merge((const char *)data, size / 2,
	    (const char *)data + size / 2, size - size / 2, keys, &out,
	    &outlen) == 0)
		free(out);
	return 0;
}
