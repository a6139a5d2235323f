/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "helpers.h"

static void handshake_and_data(void **state)
{
	test_node a, b;

	(void)state;
	test_pair_init(&a, &b);
	test_handshake(&a, &b);
	test_send(&a, &b, "hello bob");
	test_send(&b, &a, "hello alice");
	test_pair_free(&a, &b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_and_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
