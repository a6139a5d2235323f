/* SPDX-License-Identifier: MIT */
/* Key text: base64 identities and private key files. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <silosec/identity.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256];
	uint8_t key[32];
	ss_identity *id;
	int fd;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ss_key_from_base64(text, key) == 0) {
		char back[SS_B64_KEY_LEN];

		/* Canonical encoding: decoding then encoding gives the same text. */
		ss_key_to_base64(key, back);
		if (strcmp(back, text))
			__builtin_trap();
	}
	fd = memfd_create("key", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size && lseek(fd, 0, SEEK_SET) == 0 &&
	    ss_keyfile_load_fd(fd, &id) == 0)
		ss_identity_free(id);
	close(fd);
	return 0;
}
